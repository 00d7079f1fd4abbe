# Mistake: sorts by count only, so words with equal counts stay in order of first appearance instead of alphabetical order.
import sys

counts = {}
for raw in sys.stdin.read().split():
    word = raw.strip('.,;:!?"()').lower()
    if word:
        counts[word] = counts.get(word, 0) + 1

for word, count in sorted(counts.items(), key=lambda item: -item[1]):
    print(word, count)
