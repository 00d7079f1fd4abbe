import sys

data = sys.stdin.read().split()
n, k = int(data[0]), int(data[1])
a = [int(x) for x in data[2:2 + n]]

seen = {0: 1}  # prefix sum -> how many times it occurred so far
prefix = 0
count = 0
for x in a:
    prefix += x
    count += seen.get(prefix - k, 0)
    seen[prefix] = seen.get(prefix, 0) + 1
print(count)
