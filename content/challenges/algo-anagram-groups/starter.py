words = input().split()

groups = {}
for word in words:
    key = word  # TODO: a key that all anagrams of word share
    groups.setdefault(key, []).append(word)

for group in groups.values():
    print(" ".join(sorted(group)))
