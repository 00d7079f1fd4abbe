n, amount = map(int, input().split())
coins = [int(x) for x in input().split()]

INF = float("inf")
best = [0] + [INF] * amount  # best[x]: fewest coins that make x
# TODO: fill best[1..amount] from smaller amounts

print(best[amount] if best[amount] < INF else -1)
