numbers = [int(token) for token in input().split()]

# TODO: find the second largest distinct value, or print "none"
print(numbers)
