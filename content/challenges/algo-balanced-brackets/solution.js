const PAIRS = { ")": "(", "]": "[", "}": "{" };

function balanced(s) {
  const stack = [];
  for (const ch of s) {
    if (ch === "(" || ch === "[" || ch === "{") {
      stack.push(ch);
    } else if (ch in PAIRS) {
      if (stack.length === 0 || stack.pop() !== PAIRS[ch]) return false;
    }
  }
  return stack.length === 0;
}

const t = Number(readline());
for (let i = 0; i < t; i++) {
  console.log(balanced(readline() ?? "") ? "YES" : "NO");
}
