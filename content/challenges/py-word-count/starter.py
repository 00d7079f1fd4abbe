import sys

text = sys.stdin.read()
counts = {}

for word in text.split():
    # TODO: clean the word, skip it if empty, and count it
    pass

# TODO: print "word count" lines, most frequent first, ties alphabetically
for word, count in counts.items():
    print(word, count)
