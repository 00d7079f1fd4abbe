import sys

counts = {}
for raw in sys.stdin.read().split():
    word = raw.strip('.,;:!?"()').lower()
    if word:
        counts[word] = counts.get(word, 0) + 1

for word, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
    print(word, count)
