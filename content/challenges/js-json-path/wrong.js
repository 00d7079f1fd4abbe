// Mistake: a truthiness test treats existing falsy values (0, false, "", null) as missing.
const doc = JSON.parse(readline());

function lookup(value, keys) {
  let current = value;
  for (const key of keys) {
    if (!current || !current[key]) return { found: false };
    current = current[key];
  }
  return { found: true, value: current };
}

let query;
while ((query = readline()) !== null) {
  if (query === "") continue;
  const result = lookup(doc, query.split("."));
  console.log(result.found ? JSON.stringify(result.value) : "missing");
}
