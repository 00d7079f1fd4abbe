// readline() gives the next line of input, or null when there is none.
const line = readline();

// TODO: trim the name; greet a stranger when there is no name
console.log(`Hello, ${line}!`);
