const data = readAll().split(/\s+/).filter((t) => t !== "").map(Number);
const n = data[0];
const meetings = [];
for (let i = 0; i < n; i++) meetings.push([data[1 + 2 * i], data[2 + 2 * i]]);

let count = 0;
// TODO: sort the meetings and pick greedily
console.log(String(count));
