a, b = map(int, input().split())
low, high = min(a, b), max(a, b)
total = 0
for i in range(low, high + 1):
    total += i
print(total)
