import sys
from bisect import bisect_left

data = sys.stdin.read().split()
n = int(data[0])
a = [int(x) for x in data[1:1 + n]]

tails = []
for x in a:
    k = bisect_left(tails, x)  # the first tail >= x
    if k == len(tails):
        tails.append(x)
    else:
        tails[k] = x
print(len(tails))
