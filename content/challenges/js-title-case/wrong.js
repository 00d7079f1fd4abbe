// Mistake: capitalises the first letter but does not lower-case the rest, so "QUICK" stays "QUICK" instead of "Quick".
const line = readline() ?? "";
const titled = line
  .split(" ")
  .map((word) => (word === "" ? word : word[0].toUpperCase() + word.slice(1)))
  .join(" ");
console.log(titled);
