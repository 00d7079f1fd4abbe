x = int(input())

total = 0
# TODO: add every digit of x to total
print(total)
