const data = readAll().split(/\s+/).filter((t) => t !== "").map(Number);
const n = data[0];
const a = data.slice(1, 1 + n);
const q = data[1 + n];
const queries = data.slice(2 + n, 2 + n + q);

function firstIndex(a, target) {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo < a.length && a[lo] === target ? lo : -1;
}

console.log(queries.map((t) => firstIndex(a, t)).join("\n"));
