// Mistake: tests the value's truthiness instead of the key's existence, so 0, false, "" and null are reported missing.
const obj = JSON.parse(readline());
const key = readline();
if (obj[key]) {
  console.log(JSON.stringify(obj[key]));
} else {
  console.log("missing");
}
