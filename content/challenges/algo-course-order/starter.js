const data = readAll().split(/\s+/).filter((t) => t !== "").map(Number);
const n = data[0];
const m = data[1];
const after = Array.from({ length: n + 1 }, () => []); // after[a]: the courses that need a
const indegree = new Array(n + 1).fill(0);
for (let e = 0; e < m; e++) {
  const a = data[2 + 2 * e];
  const b = data[3 + 2 * e];
  after[a].push(b);
  indegree[b]++;
}

const order = [];
// TODO: Kahn's algorithm, always taking the smallest available course

console.log(order.length === n ? order.join(" ") : "IMPOSSIBLE");
