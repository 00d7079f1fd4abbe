// Mistake: forgets the no-name case: an empty line prints "Hello, !" and missing input crashes on null.trim().
const name = readline().trim();
console.log(`Hello, ${name}!`);
