n = int(input())
inventory = {}

for _ in range(n):
    action, name, qty = input().split()
    qty = int(qty)
    # TODO: apply the command to the inventory

# TODO: print the items sorted by name, or "empty"
print(inventory)
