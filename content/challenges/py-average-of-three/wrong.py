# Mistake: floor division // drops the fractional part, so 1 2 2 gives 1.00 instead of 1.67.
a, b, c = map(int, input().split())
average = (a + b + c) // 3
print(f"{average:.2f}")
