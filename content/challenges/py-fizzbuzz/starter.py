n = int(input())

for i in range(1, n + 1):
    # TODO: print Fizz, Buzz, FizzBuzz or the number itself
    print(i)
