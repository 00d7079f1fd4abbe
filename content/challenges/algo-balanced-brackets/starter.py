t = int(input())


def balanced(s):
    stack = []
    # TODO: push opening brackets, pop and compare on closing brackets
    return True


for _ in range(t):
    print("YES" if balanced(input()) else "NO")
