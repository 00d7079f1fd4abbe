const numbers = readline().trim().split(/\s+/); // keep them as strings

function compare(x, y) {
  // TODO: negative if x should come first, positive if y should, 0 if it does not matter
  return 0;
}

numbers.sort(compare);
console.log(numbers.join(""));
