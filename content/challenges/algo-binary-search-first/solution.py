import sys


def first_index(a, target):
    lo, hi = 0, len(a)  # the answer is in [lo, hi]
    while lo < hi:
        mid = (lo + hi) // 2
        if a[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo if lo < len(a) and a[lo] == target else -1


data = sys.stdin.read().split()
n = int(data[0])
a = [int(x) for x in data[1:1 + n]]
q = int(data[1 + n])
queries = [int(x) for x in data[2 + n:2 + n + q]]
print("\n".join(str(first_index(a, t)) for t in queries))
