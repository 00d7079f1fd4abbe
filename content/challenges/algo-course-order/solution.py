import sys
import heapq

data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
after = [[] for _ in range(n + 1)]
indegree = [0] * (n + 1)
for e in range(m):
    a, b = int(data[2 + 2 * e]), int(data[3 + 2 * e])
    after[a].append(b)
    indegree[b] += 1

available = [c for c in range(1, n + 1) if indegree[c] == 0]
heapq.heapify(available)
order = []
while available:
    course = heapq.heappop(available)
    order.append(course)
    for nxt in after[course]:
        indegree[nxt] -= 1
        if indegree[nxt] == 0:
            heapq.heappush(available, nxt)

print(" ".join(map(str, order)) if len(order) == n else "IMPOSSIBLE")
