words = input().split()

groups = {}
for word in words:
    key = "".join(sorted(word))
    groups.setdefault(key, []).append(word)

for group in groups.values():
    print(" ".join(sorted(group)))
