const n = Number(readline());
for (let i = 0; i < n; i++) {
  const celsius = Number(readline());
  const fahrenheit = (celsius * 9) / 5 + 32;
  console.log(fahrenheit.toFixed(1));
}
