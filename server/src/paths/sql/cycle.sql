-- A node of path $1 that can reach itself through prerequisites, if any: the
-- guard against cycles when content is imported or edited. Walks (start, node)
-- pairs, each at most once, so it ends on any graph.
WITH RECURSIVE walk (start, node) AS (
    SELECT e.from_node, e.to_node FROM path_edges e WHERE e.path_id = $1
    UNION
    SELECT w.start, e.to_node
    FROM walk w
    JOIN path_edges e ON e.from_node = w.node
    WHERE w.start <> w.node
)
SELECT n.key AS "key!"
FROM walk w
JOIN path_nodes n ON n.id = w.start
WHERE w.start = w.node
ORDER BY n.position
LIMIT 1
