# Mistake: uses r for both dimensions, which only works for square matrices.
r, c = map(int, input().split())
matrix = [[int(x) for x in input().split()] for _ in range(r)]
transposed = [[matrix[i][j] for i in range(r)] for j in range(r)]
for row in transposed:
    print(" ".join(map(str, row)))
