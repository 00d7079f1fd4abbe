-- Every node of path $2 with what learner $1 sees on it: locked, open,
-- in_progress, passed or skipped. Mirrors eduscale_core::paths::statuses.
WITH RECURSIVE
-- What the learner did, with the two derived facts the rules need.
facts AS (
    SELECT p.node_id AS node,
           p.stage,
           p.best_score,
           p.stage IN ('passed', 'skipped') AS done,
           p.stage = 'in_progress'
               AND (p.failures >= n.remediate_after_failures
                    OR (p.attempts >= 1 AND p.best_score < n.remediate_below_score)) AS struggling
    FROM progress p
    JOIN path_nodes n ON n.id = p.node_id
    WHERE p.user_id = $1 AND p.path_id = $2
),
-- Walk down from the roots: through satisfied edges, and into a remedial node
-- when its target is struggling (or the learner already started it).
reach (node) AS (
    SELECT n.id
    FROM path_nodes n
    WHERE n.path_id = $2
      AND n.remedial_for IS NULL
      AND NOT EXISTS (SELECT 1 FROM path_edges e WHERE e.to_node = n.id)
    UNION
    SELECT step.dst
    FROM reach r
    LEFT JOIN facts f ON f.node = r.node
    CROSS JOIN LATERAL (
        SELECT e.to_node AS dst, e.min_score
        FROM path_edges e
        WHERE e.from_node = r.node
        UNION ALL
        SELECT m.id, NULL
        FROM path_nodes m
        WHERE m.remedial_for = r.node
    ) step
    LEFT JOIN facts fd ON fd.node = step.dst
    WHERE (step.min_score IS NOT NULL
           AND f.done AND (f.stage = 'skipped' OR f.best_score >= step.min_score))
       OR (step.min_score IS NULL AND (f.struggling OR fd.node IS NOT NULL))
),
-- Requirement groups met by a reached prerequisite.
met AS (
    SELECT DISTINCT e.to_node, e.grp
    FROM path_edges e
    JOIN reach r ON r.node = e.from_node
    JOIN facts f ON f.node = e.from_node
    WHERE f.done AND (f.stage = 'skipped' OR f.best_score >= e.min_score)
),
unlocked AS (
    SELECT r.node
    FROM reach r
    JOIN path_nodes n ON n.id = r.node
    WHERE n.remedial_for IS NOT NULL
       OR NOT EXISTS (
           SELECT e.grp FROM path_edges e WHERE e.to_node = r.node
           EXCEPT
           SELECT m.grp FROM met m WHERE m.to_node = r.node
       )
)
SELECT n.id AS "id!",
       n.position AS "position!",
       CASE
           WHEN f.stage IN ('passed', 'skipped') THEN f.stage
           WHEN u.node IS NOT NULL AND f.node IS NOT NULL THEN 'in_progress'
           WHEN u.node IS NOT NULL THEN 'open'
           ELSE 'locked'
       END AS "status!"
FROM path_nodes n
LEFT JOIN facts f ON f.node = n.id
LEFT JOIN unlocked u ON u.node = n.id
WHERE n.path_id = $2
ORDER BY n.position
