import sys


def is_palindrome(text):
    cleaned = [ch.lower() for ch in text if ch.isalnum()]
    return cleaned == cleaned[::-1]


for line in sys.stdin:
    line = line.rstrip("\n")
    print("yes" if is_palindrome(line) else "no")
