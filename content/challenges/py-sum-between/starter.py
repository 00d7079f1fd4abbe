a, b = map(int, input().split())

total = 0
# TODO: loop over every integer from the smaller number to the larger one (inclusive)
print(total)
