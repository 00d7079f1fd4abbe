# Mistake: the longest streak is only updated when a streak is broken, so a streak that runs to the end of the log is lost.
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
    else:
        longest = max(longest, streak)
        streak = 0
print(f"cold: {cold}")
print(f"mild: {mild}")
print(f"hot: {hot}")
print(f"longest hot streak: {longest}")
