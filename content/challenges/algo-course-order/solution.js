const data = readAll().split(/\s+/).filter((t) => t !== "").map(Number);
const n = data[0];
const m = data[1];
const after = Array.from({ length: n + 1 }, () => []);
const indegree = new Array(n + 1).fill(0);
for (let e = 0; e < m; e++) {
  const a = data[2 + 2 * e];
  const b = data[3 + 2 * e];
  after[a].push(b);
  indegree[b]++;
}

// A binary min-heap of course numbers.
const heap = [];
function push(x) {
  heap.push(x);
  let i = heap.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (heap[p] <= heap[i]) break;
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
      if (l < heap.length && heap[l] < heap[s]) s = l;
      if (r < heap.length && heap[r] < heap[s]) s = r;
      if (s === i) break;
      [heap[s], heap[i]] = [heap[i], heap[s]];
      i = s;
    }
  }
  return top;
}

for (let c = 1; c <= n; c++) if (indegree[c] === 0) push(c);
const order = [];
while (heap.length > 0) {
  const course = pop();
  order.push(course);
  for (const next of after[course]) {
    indegree[next]--;
    if (indegree[next] === 0) push(next);
  }
}

console.log(order.length === n ? order.join(" ") : "IMPOSSIBLE");
