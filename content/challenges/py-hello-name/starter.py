# Read the whole line that holds the name.
name = input()

# TODO: remove the spaces around the name and print the greeting,
# for example: Hello, Ada!
print(name)
