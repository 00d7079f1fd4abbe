// Mistake: parseInt drops the decimal part of the input, so 36.6 is converted as if it were 36.
const n = parseInt(readline());
for (let i = 0; i < n; i++) {
  const celsius = parseInt(readline());
  const fahrenheit = (celsius * 9) / 5 + 32;
  console.log(fahrenheit.toFixed(1));
}
