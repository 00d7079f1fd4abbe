from functools import cmp_to_key

numbers = input().split()


def compare(x, y):
    if x + y > y + x:
        return -1
    if x + y < y + x:
        return 1
    return 0


numbers.sort(key=cmp_to_key(compare))
result = "".join(numbers).lstrip("0")
print(result or "0")
