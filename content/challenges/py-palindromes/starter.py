import sys


def is_palindrome(text):
    # TODO: keep only letters and digits, ignore case, compare with the reverse
    return False


for line in sys.stdin:
    line = line.rstrip("\n")
    print("yes" if is_palindrome(line) else "no")
