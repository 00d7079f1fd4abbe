const data = readAll().split(/\s+/).filter((t) => t !== "").map(Number);
const n = data[0];
const a = data.slice(1, 1 + n);
const q = data[1 + n];
const queries = data.slice(2 + n, 2 + n + q);

function firstIndex(a, target) {
  // TODO: binary search for the first position of target, or -1
  return -1;
}

console.log(queries.map((t) => firstIndex(a, t)).join("\n"));
