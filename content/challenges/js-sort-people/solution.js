const n = Number(readline());
const people = [];
for (let i = 0; i < n; i++) {
  const [name, age] = readline().split(" ");
  people.push({ name, age: Number(age) });
}

people.sort((a, b) => {
  if (a.age !== b.age) return a.age - b.age;
  if (a.name < b.name) return -1;
  if (a.name > b.name) return 1;
  return 0;
});

for (const person of people) {
  console.log(`${person.name} ${person.age}`);
}
