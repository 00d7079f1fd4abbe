# Mistake: the minutes are not padded to two digits, so 65 minutes prints 1:5 instead of 1:05.
m = int(input())
print(f"{m // 60}:{m % 60}")
