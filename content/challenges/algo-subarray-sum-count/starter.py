import sys

data = sys.stdin.read().split()
n, k = int(data[0]), int(data[1])
a = [int(x) for x in data[2:2 + n]]

count = 0
# TODO: walk the prefix sums and count how often prefix - k was seen before
print(count)
