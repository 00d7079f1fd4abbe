// Mistake: no tie-break on the name, so people of the same age stay in input order instead of alphabetical order.
const n = Number(readline());
const people = [];
for (let i = 0; i < n; i++) {
  const [name, age] = readline().split(" ");
  people.push({ name, age: Number(age) });
}

people.sort((a, b) => a.age - b.age);

for (const person of people) {
  console.log(`${person.name} ${person.age}`);
}
