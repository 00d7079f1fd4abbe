const words = (readline() ?? "").split(" ").filter((w) => w !== "");
const seen = new Set();
const result = [];
for (const word of words) {
  const key = word.toLowerCase();
  if (!seen.has(key)) {
    seen.add(key);
    result.push(word);
  }
}
console.log(result.join(" "));
