const n = Number(readline());

for (let i = 0; i < n; i++) {
  const celsius = readline();
  // TODO: convert to a number, compute Fahrenheit and print it with one decimal
  console.log(celsius);
}
