// Mistake: no special case for an empty array: reduce() without an initial value throws on [].
const results = JSON.parse(readline());

const best = results.reduce((a, b) => (b.score > a.score ? b : a));
const total = results.reduce((sum, r) => sum + r.score, 0);
const summary = {
  count: results.length,
  average: Math.round((total / results.length) * 100) / 100,
  best: best.name,
};
console.log(JSON.stringify(summary));
