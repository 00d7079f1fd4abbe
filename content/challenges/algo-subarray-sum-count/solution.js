const data = readAll().split(/\s+/).filter((t) => t !== "").map(Number);
const n = data[0];
const k = data[1];
const a = data.slice(2, 2 + n);

const seen = new Map([[0, 1]]);
let prefix = 0;
let count = 0;
for (const x of a) {
  prefix += x;
  count += seen.get(prefix - k) ?? 0;
  seen.set(prefix, (seen.get(prefix) ?? 0) + 1);
}
console.log(String(count));
