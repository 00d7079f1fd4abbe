const [r, c] = readline().split(" ").map(Number);
const grid = [];
for (let i = 0; i < r; i++) grid.push(readline());

let start = null;
let end = null;
for (let i = 0; i < r; i++) {
  for (let j = 0; j < c; j++) {
    if (grid[i][j] === "S") start = [i, j];
    else if (grid[i][j] === "E") end = [i, j];
  }
}

// TODO: breadth-first search from start; print the distance to end, or -1
console.log("-1");
