m = int(input())

# TODO: compute the hours and the remaining minutes,
# then print them as H:MM (minutes always with two digits).
print(m)
