const n = Number(readline());
const people = [];
for (let i = 0; i < n; i++) {
  const [name, age] = readline().split(" ");
  people.push({ name, age: Number(age) });
}

// TODO: sort by age, then by name
for (const person of people) {
  console.log(`${person.name} ${person.age}`);
}
