const counts = new Map();

let line;
while ((line = readline()) !== null) {
  const tagPart = line.slice(line.lastIndexOf("|") + 1);
  const tags = tagPart.split(",");
  // TODO: normalise the tags, count each one at most once per post
}

// TODO: sort by count (highest first), then by tag, and print "tag count"
for (const [tag, count] of counts) {
  console.log(`${tag} ${count}`);
}
