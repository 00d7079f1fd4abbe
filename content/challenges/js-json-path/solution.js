const doc = JSON.parse(readline());

function lookup(value, keys) {
  let current = value;
  for (const key of keys) {
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(key) || Number(key) >= current.length) return { found: false };
      current = current[Number(key)];
    } else if (typeof current === "object" && current !== null) {
      if (!Object.prototype.hasOwnProperty.call(current, key)) return { found: false };
      current = current[key];
    } else {
      return { found: false };
    }
  }
  return { found: true, value: current };
}

let query;
while ((query = readline()) !== null) {
  if (query === "") continue;
  const result = lookup(doc, query.split("."));
  console.log(result.found ? JSON.stringify(result.value) : "missing");
}
