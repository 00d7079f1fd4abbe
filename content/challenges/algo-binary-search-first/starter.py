import sys

data = sys.stdin.read().split()
n = int(data[0])
a = [int(x) for x in data[1:1 + n]]
q = int(data[1 + n])
queries = [int(x) for x in data[2 + n:2 + n + q]]


def first_index(a, target):
    # TODO: binary search for the first position of target, or -1
    return -1


print("\n".join(str(first_index(a, t)) for t in queries))
