n = int(input())
students = []
for _ in range(n):
    name, score = input().split()
    students.append((name, int(score)))

# TODO: sort by score (highest first), then by name (A to Z)
for name, score in students:
    print(name, score)
