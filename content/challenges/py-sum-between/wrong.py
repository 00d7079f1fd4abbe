# Mistake: assumes a <= b; when a > b the range is empty and the sum comes out as 0.
a, b = map(int, input().split())
total = 0
for i in range(a, b + 1):
    total += i
print(total)
