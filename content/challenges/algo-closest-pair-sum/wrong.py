# Mistake: ignores the tie rule and keeps the first closest sum found, which can be the larger of two equally close sums.
import sys

data = sys.stdin.read().split()
n, target = int(data[0]), int(data[1])
a = sorted(int(x) for x in data[2:2 + n])

best = None
i, j = 0, n - 1
while i < j:
    s = a[i] + a[j]
    if best is None or abs(s - target) < abs(best - target):
        best = s
    if s == target:
        break
    if s < target:
        i += 1
    else:
        j -= 1
print(best)
