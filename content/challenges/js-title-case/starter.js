const line = readline() ?? "";

// TODO: capitalise each word, lower-case the rest of it, keep the spaces
const words = line.split(" ");
console.log(words.join(" "));
