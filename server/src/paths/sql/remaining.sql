-- What learner $1 still has to do to reach node $2, in the order to do it:
-- walking up from the target through nodes not yet done, along the edges still
-- needed (in a requirement group nobody has met yet, its first alternative).
-- Mirrors eduscale_core::paths::remaining.
WITH RECURSIVE
facts AS (
    SELECT p.node_id AS node, p.stage, p.best_score,
           p.stage IN ('passed', 'skipped') AS done
    FROM progress p
    JOIN path_nodes t ON t.id = $2
    WHERE p.user_id = $1 AND p.path_id = t.path_id
),
open_groups AS (
    SELECT e.to_node, e.grp
    FROM path_edges e
    JOIN path_nodes t ON t.id = $2 AND e.path_id = t.path_id
    LEFT JOIN facts f ON f.node = e.from_node
    GROUP BY e.to_node, e.grp
    HAVING NOT coalesce(bool_or(f.done AND (f.stage = 'skipped' OR f.best_score >= e.min_score)), false)
),
needed AS (
    SELECT DISTINCT ON (e.to_node, e.grp) e.from_node, e.to_node
    FROM path_edges e
    JOIN open_groups g ON g.to_node = e.to_node AND g.grp = e.grp
    ORDER BY e.to_node, e.grp, e.ordinal
),
up (node, depth) AS (
    SELECT $2::bigint, 0
    WHERE NOT EXISTS (SELECT 1 FROM facts f WHERE f.node = $2 AND f.done)
    UNION
    SELECT nd.from_node, up.depth + 1
    FROM up
    JOIN needed nd ON nd.to_node = up.node
    WHERE NOT EXISTS (SELECT 1 FROM facts f WHERE f.node = nd.from_node AND f.done)
)
SELECT n.id AS "id!", n.position AS "position!", n.key AS "key!", n.title AS "title!",
       max(up.depth) AS "distance!"
FROM up
JOIN path_nodes n ON n.id = up.node
GROUP BY n.id
ORDER BY max(up.depth) DESC, n.position
