const numbers = (readline() ?? "")
  .split(" ")
  .filter((token) => token !== "")
  .map(Number);

const total = numbers
  .filter((x) => x % 2 === 0)
  .map((x) => x * x)
  .reduce((sum, x) => sum + x, 0);
console.log(String(total));
