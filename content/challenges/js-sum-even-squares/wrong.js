// Mistake: reduce() has no initial value, so it throws a TypeError when the list has no even numbers.
const numbers = readline().split(" ").map(Number);

const total = numbers
  .filter((x) => x % 2 === 0)
  .map((x) => x * x)
  .reduce((sum, x) => sum + x);
console.log(String(total));
