// Mistake: forgets the all-zeros case, so "0 0" prints "00" instead of "0".
const numbers = readline().trim().split(/\s+/);
numbers.sort((x, y) => (x + y > y + x ? -1 : x + y < y + x ? 1 : 0));
console.log(numbers.join(""));
