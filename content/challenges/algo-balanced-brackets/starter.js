const t = Number(readline());

function balanced(s) {
  const stack = [];
  // TODO: push opening brackets, pop and compare on closing brackets
  return true;
}

for (let i = 0; i < t; i++) {
  console.log(balanced(readline() ?? "") ? "YES" : "NO");
}
