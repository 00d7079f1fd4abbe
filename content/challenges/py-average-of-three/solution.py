a, b, c = map(int, input().split())
average = (a + b + c) / 3
print(f"{average:.2f}")
