r, c = map(int, input().split())
matrix = [[int(x) for x in input().split()] for _ in range(r)]

# TODO: build the transposed matrix (c rows of r values) and print it
for row in matrix:
    print(" ".join(map(str, row)))
