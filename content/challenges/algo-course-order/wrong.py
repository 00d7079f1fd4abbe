# Mistake: a plain FIFO queue gives a valid order, but not the one that always takes the smallest available course.
import sys
from collections import deque

data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
after = [[] for _ in range(n + 1)]
indegree = [0] * (n + 1)
for e in range(m):
    a, b = int(data[2 + 2 * e]), int(data[3 + 2 * e])
    after[a].append(b)
    indegree[b] += 1

available = deque(c for c in range(1, n + 1) if indegree[c] == 0)
order = []
while available:
    course = available.popleft()
    order.append(course)
    for nxt in after[course]:
        indegree[nxt] -= 1
        if indegree[nxt] == 0:
            available.append(nxt)

print(" ".join(map(str, order)) if len(order) == n else "IMPOSSIBLE")
