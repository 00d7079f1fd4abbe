const data = readAll().split(/\s+/).filter((t) => t !== "").map(Number);
const n = data[0];
const k = data[1];
const a = data.slice(2, 2 + n);

let count = 0;
// TODO: walk the prefix sums and count how often prefix - k was seen before
console.log(String(count));
