def ranking_key(student):
    name, score = student
    return (-score, name)


n = int(input())
students = []
for _ in range(n):
    name, score = input().split()
    students.append((name, int(score)))

for name, score in sorted(students, key=ranking_key):
    print(name, score)
