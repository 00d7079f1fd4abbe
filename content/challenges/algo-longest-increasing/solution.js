const data = readAll().split(/\s+/).filter((t) => t !== "").map(Number);
const n = data[0];
const a = data.slice(1, 1 + n);

const tails = [];
for (const x of a) {
  let lo = 0;
  let hi = tails.length; // find the first tail >= x
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tails[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo === tails.length) tails.push(x);
  else tails[lo] = x;
}
console.log(String(tails.length));
