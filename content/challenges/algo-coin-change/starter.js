const [n, amount] = readline().trim().split(/\s+/).map(Number);
const coins = readline().trim().split(/\s+/).map(Number);

const best = new Array(amount + 1).fill(Infinity); // best[x]: fewest coins that make x
best[0] = 0;
// TODO: fill best[1..amount] from smaller amounts

console.log(best[amount] === Infinity ? "-1" : String(best[amount]));
