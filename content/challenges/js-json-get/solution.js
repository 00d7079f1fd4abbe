const obj = JSON.parse(readline());
const key = readline();
if (Object.prototype.hasOwnProperty.call(obj, key)) {
  console.log(JSON.stringify(obj[key]));
} else {
  console.log("missing");
}
