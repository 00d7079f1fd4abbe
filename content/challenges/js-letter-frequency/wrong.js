// Mistake: prints the letters in the order they first appear (object key order) instead of alphabetical order.
const text = readAll();
const counts = {};
for (const ch of text.toLowerCase()) {
  if (ch >= "a" && ch <= "z") {
    counts[ch] = (counts[ch] ?? 0) + 1;
  }
}
for (const letter of Object.keys(counts)) {
  console.log(`${letter} ${counts[letter]}`);
}
