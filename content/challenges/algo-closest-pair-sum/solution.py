import sys

data = sys.stdin.read().split()
n, target = int(data[0]), int(data[1])
a = sorted(int(x) for x in data[2:2 + n])

best = a[0] + a[1]
i, j = 0, n - 1
while i < j:
    s = a[i] + a[j]
    d, bd = abs(s - target), abs(best - target)
    if d < bd or (d == bd and s < best):
        best = s
    if s == target:
        break
    if s < target:
        i += 1
    else:
        j -= 1
print(best)
