# Mistake: depth-first search (a stack instead of a queue) reports the length of the first path it finds, not the shortest.
r, c = map(int, input().split())
grid = [input() for _ in range(r)]

for i in range(r):
    for j in range(c):
        if grid[i][j] == "S":
            start = (i, j)
        elif grid[i][j] == "E":
            end = (i, j)

dist = [[-1] * c for _ in range(r)]
dist[start[0]][start[1]] = 0
stack = [start]
while stack:
    i, j = stack.pop()
    if (i, j) == end:
        break
    for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        ni, nj = i + di, j + dj
        if 0 <= ni < r and 0 <= nj < c and grid[ni][nj] != "#" and dist[ni][nj] == -1:
            dist[ni][nj] = dist[i][j] + 1
            stack.append((ni, nj))
print(dist[end[0]][end[1]])
