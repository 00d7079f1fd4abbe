const data = readAll().split(/\s+/).filter((t) => t !== "").map(Number);
const n = data[0];
const m = data[1];
const graph = Array.from({ length: n + 1 }, () => []);
for (let e = 0; e < m; e++) {
  const [u, v, w] = data.slice(2 + 3 * e, 5 + 3 * e);
  graph[u].push([v, w]);
}

// A binary min-heap of [distance, node] pairs.
const heap = [];
function push(item) {
  heap.push(item);
  let i = heap.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (heap[p][0] <= heap[i][0]) break;
    [heap[p], heap[i]] = [heap[i], heap[p]];
    i = p;
  }
}
function pop() {
  const top = heap[0];
  const last = heap.pop();
  if (heap.length > 0) {
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let s = i;
      if (l < heap.length && heap[l][0] < heap[s][0]) s = l;
      if (r < heap.length && heap[r][0] < heap[s][0]) s = r;
      if (s === i) break;
      [heap[s], heap[i]] = [heap[i], heap[s]];
      i = s;
    }
  }
  return top;
}

const dist = new Array(n + 1).fill(Infinity);
dist[1] = 0;
push([0, 1]);
while (heap.length > 0) {
  const [d, u] = pop();
  if (d > dist[u]) continue; // an out-of-date entry
  for (const [v, w] of graph[u]) {
    const nd = d + w;
    if (nd < dist[v]) {
      dist[v] = nd;
      push([nd, v]);
    }
  }
}

console.log(dist.slice(1).map((d) => (d === Infinity ? "-1" : String(d))).join("\n"));
