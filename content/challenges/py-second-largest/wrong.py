# Mistake: duplicates are not removed, so in "5 5 4" the answer is 5 (the maximum again) instead of 4.
numbers = [int(token) for token in input().split()]
if len(numbers) < 2:
    print("none")
else:
    print(sorted(numbers)[-2])
