const doc = JSON.parse(readline());

function lookup(value, keys) {
  // TODO: follow the keys; return { found: true, value } or { found: false }
  return { found: false };
}

let query;
while ((query = readline()) !== null) {
  const result = lookup(doc, query.split("."));
  console.log(result.found ? JSON.stringify(result.value) : "missing");
}
