const results = JSON.parse(readline());

// TODO: compute count, average (2 decimals) and best
const summary = { count: results.length, average: 0, best: null };
console.log(JSON.stringify(summary));
