import sys
import heapq

data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
after = [[] for _ in range(n + 1)]   # after[a]: the courses that need a
indegree = [0] * (n + 1)
for e in range(m):
    a, b = int(data[2 + 2 * e]), int(data[3 + 2 * e])
    after[a].append(b)
    indegree[b] += 1

order = []
# TODO: Kahn's algorithm, always taking the smallest available course

print(" ".join(map(str, order)) if len(order) == n else "IMPOSSIBLE")
