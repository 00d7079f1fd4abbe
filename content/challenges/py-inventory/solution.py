n = int(input())
inventory = {}
for _ in range(n):
    action, name, qty = input().split()
    qty = int(qty)
    if action == "add":
        inventory[name] = inventory.get(name, 0) + qty
    elif name in inventory:
        inventory[name] -= qty
        if inventory[name] <= 0:
            del inventory[name]

if inventory:
    for name in sorted(inventory):
        print(name, inventory[name])
else:
    print("empty")
