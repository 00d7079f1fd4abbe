import sys

readings = [int(token) for token in sys.stdin.read().split()]
cold = mild = hot = 0
streak = longest = 0
for t in readings:
    if t < 10:
        cold += 1
    elif t < 25:
        mild += 1
    else:
        hot += 1
    if t >= 25:
        streak += 1
        longest = max(longest, streak)
    else:
        streak = 0
print(f"cold: {cold}")
print(f"mild: {mild}")
print(f"hot: {hot}")
print(f"longest hot streak: {longest}")
