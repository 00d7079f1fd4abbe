# Mistake: split(" ") produces empty strings when spaces repeat, and ""[0] raises IndexError.
words = input().split(" ")
print("".join(word[0].upper() + "." for word in words))
