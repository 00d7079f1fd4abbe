import sys
from bisect import bisect_left

data = sys.stdin.read().split()
n = int(data[0])
a = [int(x) for x in data[1:1 + n]]

tails = []  # tails[k]: smallest last element of an increasing subsequence of length k + 1
# TODO: place every element of a into tails

print(len(tails))
