# Mistake: only the case is ignored; spaces and punctuation are still compared, so "A man, a plan, a canal: Panama" gives no.
import sys


def is_palindrome(text):
    lowered = text.lower()
    return lowered == lowered[::-1]


for line in sys.stdin:
    line = line.rstrip("\n")
    print("yes" if is_palindrome(line) else "no")
