const data = readAll().split(/\s+/).filter((t) => t !== "").map(Number);
const n = data[0];
const a = data.slice(1, 1 + n);

const tails = []; // tails[k]: smallest last element of an increasing subsequence of length k + 1
// TODO: place every element of a into tails (binary search for its position)

console.log(String(tails.length));
