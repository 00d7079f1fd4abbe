line = input()

# TODO: split the line into words and print the initials, e.g. A.L.
print(line)
