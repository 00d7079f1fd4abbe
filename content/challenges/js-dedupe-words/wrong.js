// Mistake: the Set compares words case-sensitively, so "Apple" and "apple" are both kept.
const words = (readline() ?? "").split(" ").filter((w) => w !== "");
console.log([...new Set(words)].join(" "));
