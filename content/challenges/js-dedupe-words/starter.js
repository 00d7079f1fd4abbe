const words = (readline() ?? "").split(" ").filter((w) => w !== "");

const result = [];
// TODO: keep each word the first time it appears (ignoring case)
console.log(words.join(" "));
