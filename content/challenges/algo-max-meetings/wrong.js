// Mistake: uses > instead of >=, so a meeting starting exactly when the previous one ends is wrongly treated as overlapping.
const data = readAll().split(/\s+/).filter((t) => t !== "").map(Number);
const n = data[0];
const meetings = [];
for (let i = 0; i < n; i++) meetings.push([data[1 + 2 * i], data[2 + 2 * i]]);

meetings.sort((x, y) => x[1] - y[1]);
let count = 0;
let freeFrom = -1;
for (const [start, end] of meetings) {
  if (start > freeFrom) {
    count++;
    freeFrom = end;
  }
}
console.log(String(count));
