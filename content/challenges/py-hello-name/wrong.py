# Mistake: split() keeps only the first word, so "Ada Lovelace" is greeted as "Ada".
name = input().split()[0]
print(f"Hello, {name}!")
