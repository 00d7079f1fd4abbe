# Mistake: the key is the sum of the letter codes, which collides for words that are not anagrams ("ad" and "bc").
words = input().split()

groups = {}
for word in words:
    key = sum(ord(ch) for ch in word)
    groups.setdefault(key, []).append(word)

for group in groups.values():
    print(" ".join(sorted(group)))
