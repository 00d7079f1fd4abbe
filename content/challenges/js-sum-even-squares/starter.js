const numbers = (readline() ?? "")
  .split(" ")
  .filter((token) => token !== "")
  .map(Number);

// TODO: keep the even numbers, square them and add them up
const total = 0;
console.log(String(total));
