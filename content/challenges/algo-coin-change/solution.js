const [n, amount] = readline().trim().split(/\s+/).map(Number);
const coins = readline().trim().split(/\s+/).map(Number);

const best = new Array(amount + 1).fill(Infinity);
best[0] = 0;
for (let x = 1; x <= amount; x++) {
  for (const coin of coins) {
    if (coin <= x && best[x - coin] + 1 < best[x]) best[x] = best[x - coin] + 1;
  }
}

console.log(best[amount] === Infinity ? "-1" : String(best[amount]));
