const obj = JSON.parse(readline());
const key = readline();

// TODO: print JSON.stringify(obj[key]) if the key exists, otherwise "missing"
console.log("missing");
