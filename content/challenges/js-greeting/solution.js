const line = readline();
const name = line === null ? "" : line.trim();
if (name === "") {
  console.log("Hello, stranger!");
} else {
  console.log(`Hello, ${name}!`);
}
