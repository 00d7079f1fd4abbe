numbers = [int(token) for token in input().split()]
distinct = sorted(set(numbers))
if len(distinct) < 2:
    print("none")
else:
    print(distinct[-2])
