# Mistake: bisect_right lets equal values extend a subsequence, so it finds the longest non-decreasing one (2 2 2 gives 3, not 1).
import sys
from bisect import bisect_right

data = sys.stdin.read().split()
n = int(data[0])
a = [int(x) for x in data[1:1 + n]]

tails = []
for x in a:
    k = bisect_right(tails, x)
    if k == len(tails):
        tails.append(x)
    else:
        tails[k] = x
print(len(tails))
