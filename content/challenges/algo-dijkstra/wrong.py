# Mistake: breadth-first search that fixes a depot's toll the first time it is reached, i.e. by fewest roads, not lowest toll.
import sys
from collections import deque

data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
graph = [[] for _ in range(n + 1)]
for e in range(m):
    u, v, w = (int(x) for x in data[2 + 3 * e:5 + 3 * e])
    graph[u].append((v, w))

dist = [-1] * (n + 1)
dist[1] = 0
queue = deque([1])
while queue:
    u = queue.popleft()
    for v, w in graph[u]:
        if dist[v] == -1:
            dist[v] = dist[u] + w
            queue.append(v)

print("\n".join(str(d) for d in dist[1:]))
