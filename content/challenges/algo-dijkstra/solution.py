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
heap = [(0, 1)]
while heap:
    d, u = heapq.heappop(heap)
    if d > dist[u]:
        continue  # an out-of-date entry
    for v, w in graph[u]:
        nd = d + w
        if nd < dist[v]:
            dist[v] = nd
            heapq.heappush(heap, (nd, v))

print("\n".join(str(d) if d < INF else "-1" for d in dist[1:]))
