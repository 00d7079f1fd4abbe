const text = readAll();
const counts = {};
for (const ch of text.toLowerCase()) {
  if (ch >= "a" && ch <= "z") {
    counts[ch] = (counts[ch] ?? 0) + 1;
  }
}
for (const letter of Object.keys(counts).sort()) {
  console.log(`${letter} ${counts[letter]}`);
}
