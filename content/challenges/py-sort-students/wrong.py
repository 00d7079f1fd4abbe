# Mistake: reverse=True also reverses the names, so students with equal scores come out Z to A.
n = int(input())
students = []
for _ in range(n):
    name, score = input().split()
    students.append((name, int(score)))

for name, score in sorted(students, key=lambda s: (s[1], s[0]), reverse=True):
    print(name, score)
