-- What node $2 needs: every node it depends on through prerequisites, nearest
-- first, with learner $1's stored stage and best score on each.
WITH RECURSIVE up (node, depth) AS (
    SELECT e.from_node, 1 FROM path_edges e WHERE e.to_node = $2
    UNION
    SELECT e.from_node, up.depth + 1
    FROM up
    JOIN path_edges e ON e.to_node = up.node
)
SELECT n.id AS "id!", n.position AS "position!", n.key AS "key!", n.title AS "title!",
       min(up.depth) AS "depth!",
       p.stage AS "stage?", p.best_score AS "best_score?"
FROM up
JOIN path_nodes n ON n.id = up.node
LEFT JOIN progress p ON p.user_id = $1 AND p.node_id = n.id
GROUP BY n.id, p.stage, p.best_score
ORDER BY min(up.depth), n.position
