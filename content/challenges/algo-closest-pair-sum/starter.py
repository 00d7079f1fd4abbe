import sys

data = sys.stdin.read().split()
n, target = int(data[0]), int(data[1])
a = sorted(int(x) for x in data[2:2 + n])

best = a[0] + a[1]
# TODO: move two pointers inwards and keep the closest sum (the smaller one on a tie)
print(best)
