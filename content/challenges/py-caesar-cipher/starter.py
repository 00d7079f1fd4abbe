k = int(input())
text = input()


def shift_char(ch, k):
    # TODO: shift a-z and A-Z by k places (wrapping around); leave everything else alone
    return ch


print("".join(shift_char(ch, k) for ch in text))
