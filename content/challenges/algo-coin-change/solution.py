n, amount = map(int, input().split())
coins = [int(x) for x in input().split()]

INF = float("inf")
best = [0] + [INF] * amount
for x in range(1, amount + 1):
    for coin in coins:
        if coin <= x and best[x - coin] + 1 < best[x]:
            best[x] = best[x - coin] + 1

print(best[amount] if best[amount] < INF else -1)
