a, b = map(int, input().split())


def is_prime(n):
    # TODO: return True when n is prime
    return False


primes = []
# TODO: collect every prime between a and b (both included)
if primes:
    print(" ".join(map(str, primes)))
else:
    print("none")
