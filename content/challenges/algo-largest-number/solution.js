const numbers = readline().trim().split(/\s+/);

function compare(x, y) {
  if (x + y > y + x) return -1;
  if (x + y < y + x) return 1;
  return 0;
}

numbers.sort(compare);
const result = numbers.join("").replace(/^0+/, "");
console.log(result === "" ? "0" : result);
