r, c = map(int, input().split())
matrix = [[int(x) for x in input().split()] for _ in range(r)]
transposed = [[matrix[i][j] for i in range(r)] for j in range(c)]
for row in transposed:
    print(" ".join(map(str, row)))
