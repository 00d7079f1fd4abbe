a, b, c = map(int, input().split())

# TODO: compute the average of a, b and c and print it with two decimals.
print(a, b, c)
