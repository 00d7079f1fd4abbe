from collections import deque

r, c = map(int, input().split())
grid = [input() for _ in range(r)]

start = end = None
for i in range(r):
    for j in range(c):
        if grid[i][j] == "S":
            start = (i, j)
        elif grid[i][j] == "E":
            end = (i, j)

# TODO: breadth-first search from start; print the distance to end, or -1
print(-1)
