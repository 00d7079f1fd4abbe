-- The nodes of path $2 that learner $1 can work on now (open or in progress),
-- by position. Mirrors eduscale_core::paths::open_nodes; the CTEs are those of
-- statuses.sql (a query file cannot include another), only the end differs:
-- nothing here touches the nodes beyond the frontier.
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
-- Walk down from the roots through satisfied edges. Only done nodes lead on,
-- so each step joins the newly reached nodes to their progress and out-edges.
walk (node) AS (
    SELECT n.id
    FROM path_nodes n
    WHERE n.path_id = $2
      AND n.remedial_for IS NULL
      AND NOT EXISTS (SELECT 1 FROM path_edges e WHERE e.to_node = n.id)
    UNION
    SELECT e.to_node
    FROM walk w
    JOIN facts f ON f.node = w.node AND f.done
    JOIN path_edges e ON e.from_node = w.node
    WHERE f.stage = 'skipped' OR f.best_score >= e.min_score
),
-- Remedial nodes have no edges in or out (core's validate refuses them), so they
-- are leaves hung off the walk: reached when their target is reached and
-- struggling, or once the learner has started them.
reach (node) AS (
    SELECT node FROM walk
    UNION ALL
    SELECT m.id
    FROM path_nodes m
    JOIN walk w ON w.node = m.remedial_for
    LEFT JOIN facts t ON t.node = m.remedial_for
    LEFT JOIN facts own ON own.node = m.id
    WHERE m.path_id = $2 AND (t.struggling OR own.node IS NOT NULL)
),
-- Reached nodes not done yet: only these can be open, so only these need the
-- group check (done nodes show passed or skipped whatever their prerequisites).
frontier AS MATERIALIZED (
    SELECT r.node
    FROM reach r
    LEFT JOIN facts f ON f.node = r.node
    WHERE NOT coalesce(f.done, false)
),
-- A frontier node is unlocked when every one of its requirement groups has a
-- satisfied edge from a walked (reached, done) prerequisite. Checked per
-- frontier node through the indexes: a few dozen lookups, not a join of the
-- whole walk with every edge.
unlocked AS (
    SELECT fr.node
    FROM frontier fr
    JOIN path_nodes n ON n.id = fr.node
    CROSS JOIN LATERAL (
        SELECT count(DISTINCT e.grp) AS needed,
               count(DISTINCT e.grp) FILTER (
                   WHERE f.stage IN ('passed', 'skipped')
                     AND (f.stage = 'skipped' OR f.best_score >= e.min_score)
                     AND e.from_node IN (SELECT node FROM walk)
               ) AS met
        FROM path_edges e
        LEFT JOIN progress f ON f.user_id = $1 AND f.node_id = e.from_node
        WHERE e.to_node = fr.node
    ) g
    WHERE n.remedial_for IS NOT NULL OR g.needed = g.met
)
SELECT n.id AS "id!", n.position AS "position!"
FROM unlocked u
JOIN path_nodes n ON n.id = u.node
ORDER BY n.position
