# Mistake: a sliding window, which is only correct when all numbers are positive; zeros and negatives break it.
import sys

data = sys.stdin.read().split()
n, k = int(data[0]), int(data[1])
a = [int(x) for x in data[2:2 + n]]

count = 0
left = 0
window = 0
for right in range(n):
    window += a[right]
    while window > k and left <= right:
        window -= a[left]
        left += 1
    if window == k and left <= right:
        count += 1
print(count)
