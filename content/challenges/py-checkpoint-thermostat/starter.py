import sys

readings = [int(token) for token in sys.stdin.read().split()]

cold = mild = hot = 0
longest = 0
# TODO: classify every reading and track the longest run of hot readings

print(f"cold: {cold}")
print(f"mild: {mild}")
print(f"hot: {hot}")
print(f"longest hot streak: {longest}")
