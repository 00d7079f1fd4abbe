const words = (readline() ?? "").split(" ").filter((w) => w !== "");

const groups = new Map();
for (const word of words) {
  const key = [...word].sort().join("");
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(word);
}

for (const group of groups.values()) {
  console.log(group.sort().join(" "));
}
