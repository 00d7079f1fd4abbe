-- What node $2 leads to: every node that depends on it through prerequisites,
-- nearest first, with learner $1's stored stage on each.
WITH RECURSIVE down (node, depth) AS (
    SELECT e.to_node, 1 FROM path_edges e WHERE e.from_node = $2
    UNION
    SELECT e.to_node, down.depth + 1
    FROM down
    JOIN path_edges e ON e.from_node = down.node
)
SELECT n.id AS "id!", n.position AS "position!", n.key AS "key!", n.title AS "title!",
       min(down.depth) AS "depth!",
       p.stage AS "stage?", p.best_score AS "best_score?"
FROM down
JOIN path_nodes n ON n.id = down.node
LEFT JOIN progress p ON p.user_id = $1 AND p.node_id = n.id
GROUP BY n.id, p.stage, p.best_score
ORDER BY min(down.depth), n.position
