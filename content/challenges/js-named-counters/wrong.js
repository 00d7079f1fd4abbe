// Mistake: the current value lives in one variable outside makeCounter, so all counters share (and overwrite) the same state.
let current;

function makeCounter(start, step) {
  current = start;
  return {
    next() {
      const value = current;
      current += step;
      return value;
    },
    reset() {
      current = start;
    },
  };
}

const counters = new Map();
let line;
while ((line = readline()) !== null) {
  const [command, name, a, b] = line.trim().split(/\s+/);
  if (command === "new") {
    counters.set(name, makeCounter(Number(a), Number(b)));
  } else if (command === "next") {
    const counter = counters.get(name);
    console.log(counter ? String(counter.next()) : "unknown");
  } else if (command === "reset") {
    const counter = counters.get(name);
    if (counter) counter.reset();
  }
}
