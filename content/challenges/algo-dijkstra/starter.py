import sys
import heapq

data = sys.stdin.read().split()
n, m = int(data[0]), int(data[1])
graph = [[] for _ in range(n + 1)]
for e in range(m):
    u, v, w = (int(x) for x in data[2 + 3 * e:5 + 3 * e])
    graph[u].append((v, w))

INF = float("inf")
dist = [INF] * (n + 1)
dist[1] = 0
# TODO: Dijkstra with a heap of (distance, node) pairs

print("\n".join(str(d) if d < INF else "-1" for d in dist[1:]))
