const data = readAll().split(/\s+/).filter((t) => t !== "").map(Number);
const n = data[0];
const target = data[1];
const a = data.slice(2, 2 + n).sort((x, y) => x - y);

let best = a[0] + a[1];
// TODO: move two pointers inwards and keep the closest sum (the smaller one on a tie)
console.log(String(best));
