# Mistake: letters are shifted without wrapping around the alphabet, so "xyz" shifted by 3 gives "{|}" instead of "abc".
k = int(input())
text = input()
print("".join(chr(ord(ch) + k) if ch.isalpha() else ch for ch in text))
