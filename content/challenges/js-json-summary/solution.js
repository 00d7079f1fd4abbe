const results = JSON.parse(readline());

let summary;
if (results.length === 0) {
  summary = { count: 0, average: 0, best: null };
} else {
  const total = results.reduce((sum, r) => sum + r.score, 0);
  let best = results[0];
  for (const r of results) {
    if (r.score > best.score) best = r;
  }
  summary = {
    count: results.length,
    average: Math.round((total / results.length) * 100) / 100,
    best: best.name,
  };
}
console.log(JSON.stringify(summary));
