function makeCounter(start, step) {
  // TODO: keep the current value in a variable local to this call
  return {
    next() {
      return start;
    },
    reset() {},
  };
}

const counters = new Map();
let line;
while ((line = readline()) !== null) {
  const [command, name, a, b] = line.split(" ");
  // TODO: handle new / next / reset
}
