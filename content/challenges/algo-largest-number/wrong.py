# Mistake: sorts the numbers as strings in descending order, which puts "30" before "3" (303 instead of 330).
numbers = input().split()
numbers.sort(reverse=True)
result = "".join(numbers).lstrip("0")
print(result or "0")
