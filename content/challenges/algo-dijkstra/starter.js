const data = readAll().split(/\s+/).filter((t) => t !== "").map(Number);
const n = data[0];
const m = data[1];
const graph = Array.from({ length: n + 1 }, () => []);
for (let e = 0; e < m; e++) {
  const [u, v, w] = data.slice(2 + 3 * e, 5 + 3 * e);
  graph[u].push([v, w]);
}

const dist = new Array(n + 1).fill(Infinity);
dist[1] = 0;
// TODO: Dijkstra with a binary heap of [distance, node] pairs

console.log(dist.slice(1).map((d) => (d === Infinity ? "-1" : String(d))).join("\n"));
