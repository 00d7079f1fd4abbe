const text = readAll();
const counts = {};

for (const ch of text.toLowerCase()) {
  // TODO: count ch when it is a letter from a to z
}

// TODO: print "letter count" lines in alphabetical order
for (const letter of Object.keys(counts)) {
  console.log(`${letter} ${counts[letter]}`);
}
