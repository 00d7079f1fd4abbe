// Mistake: a tag repeated within one post is counted every time instead of once per post.
const counts = new Map();

let line;
while ((line = readline()) !== null) {
  const bar = line.lastIndexOf("|");
  if (bar < 0) continue;
  const tags = line
    .slice(bar + 1)
    .split(",")
    .map((tag) => tag.trim().toLowerCase())
    .filter((tag) => tag !== "");
  for (const tag of tags) {
    counts.set(tag, (counts.get(tag) ?? 0) + 1);
  }
}

const ranked = [...counts.entries()].sort((a, b) => {
  if (a[1] !== b[1]) return b[1] - a[1];
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
});
for (const [tag, count] of ranked) {
  console.log(`${tag} ${count}`);
}
