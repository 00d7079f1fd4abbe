# Mistake: sorts by start time; an early meeting that lasts all day then blocks several short ones.
import sys

data = sys.stdin.read().split()
n = int(data[0])
meetings = [(int(data[1 + 2 * i]), int(data[2 + 2 * i])) for i in range(n)]

count = 0
free_from = -1
for start, end in sorted(meetings):
    if start >= free_from:
        count += 1
        free_from = end
print(count)
