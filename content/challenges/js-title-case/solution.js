const line = readline() ?? "";
const titled = line
  .split(" ")
  .map((word) => (word === "" ? word : word[0].toUpperCase() + word.slice(1).toLowerCase()))
  .join(" ");
console.log(titled);
