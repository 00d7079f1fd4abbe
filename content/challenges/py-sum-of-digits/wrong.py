# Mistake: negative numbers are not made positive first, so the loop never runs and -456 gives 0.
x = int(input())
total = 0
while x > 0:
    total += x % 10
    x //= 10
print(total)
