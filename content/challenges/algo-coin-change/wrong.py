# Mistake: greedy (largest coin first) is not optimal for every coin set, e.g. coins 1 3 4 and amount 6.
n, amount = map(int, input().split())
coins = sorted((int(x) for x in input().split()), reverse=True)

count = 0
rest = amount
for coin in coins:
    count += rest // coin
    rest %= coin
print(count if rest == 0 else -1)
