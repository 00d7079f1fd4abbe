# Mistake: counts each bracket type separately instead of using a stack, so interleaved brackets like "([)]" pass.
def balanced(s):
    depth = {"(": 0, "[": 0, "{": 0}
    closing = {")": "(", "]": "[", "}": "{"}
    for ch in s:
        if ch in depth:
            depth[ch] += 1
        elif ch in closing:
            depth[closing[ch]] -= 1
            if depth[closing[ch]] < 0:
                return False
    return all(v == 0 for v in depth.values())


t = int(input())
for _ in range(t):
    print("YES" if balanced(input()) else "NO")
