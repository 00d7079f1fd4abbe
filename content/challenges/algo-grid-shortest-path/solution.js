const [r, c] = readline().trim().split(/\s+/).map(Number);
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

const dist = Array.from({ length: r }, () => new Array(c).fill(-1));
dist[start[0]][start[1]] = 0;
const queue = [start];
let head = 0; // a moving index makes the array a queue without O(n) shift()
const moves = [[1, 0], [-1, 0], [0, 1], [0, -1]];
while (head < queue.length) {
  const [i, j] = queue[head++];
  if (i === end[0] && j === end[1]) break;
  for (const [di, dj] of moves) {
    const ni = i + di;
    const nj = j + dj;
    if (ni >= 0 && ni < r && nj >= 0 && nj < c && grid[ni][nj] !== "#" && dist[ni][nj] === -1) {
      dist[ni][nj] = dist[i][j] + 1;
      queue.push([ni, nj]);
    }
  }
}
console.log(String(dist[end[0]][end[1]]));
