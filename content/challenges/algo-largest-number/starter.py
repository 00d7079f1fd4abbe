from functools import cmp_to_key

numbers = input().split()  # keep them as strings


def compare(x, y):
    # TODO: negative if x should come first, positive if y should, 0 if it does not matter
    return 0


numbers.sort(key=cmp_to_key(compare))
print("".join(numbers))
