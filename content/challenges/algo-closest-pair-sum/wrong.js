// Mistake: sort() without a comparator orders the numbers as strings ("10" < "9"), which breaks the two-pointer walk.
const data = readAll().split(/\s+/).filter((t) => t !== "").map(Number);
const n = data[0];
const target = data[1];
const a = data.slice(2, 2 + n).sort();

let best = a[0] + a[1];
let i = 0;
let j = n - 1;
while (i < j) {
  const s = a[i] + a[j];
  const d = Math.abs(s - target);
  const bd = Math.abs(best - target);
  if (d < bd || (d === bd && s < best)) best = s;
  if (s === target) break;
  if (s < target) i++;
  else j--;
}
console.log(String(best));
