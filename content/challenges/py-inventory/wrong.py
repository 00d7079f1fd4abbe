# Mistake: items whose quantity reaches zero (or that were never there) are kept and printed with 0.
n = int(input())
inventory = {}
for _ in range(n):
    action, name, qty = input().split()
    qty = int(qty)
    if action == "add":
        inventory[name] = inventory.get(name, 0) + qty
    else:
        inventory[name] = max(0, inventory.get(name, 0) - qty)

if inventory:
    for name in sorted(inventory):
        print(name, inventory[name])
else:
    print("empty")
