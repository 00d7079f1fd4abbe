n = int(input())

for _ in range(n):
    score = int(input())
    # TODO: print the letter grade for this score
    print(score)
