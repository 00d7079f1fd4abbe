-- Insights: the aggregates that read the whole event log become roll-ups.
--
-- As materialized views, daily activity, per learner per node and the verdicts
-- were recomputed from every event each round: on 5,000,000 events that took
-- 18-21 s of a 20 s round on two cores, and the dashboards' queries waited for
-- the CPU behind it. As tables they take, each round, only the events committed
-- since the round before, added in one transaction: readers see the previous
-- totals until it commits, and never wait (plain MVCC, no lock on the reader).
-- The aggregates over them that depend on cohort membership or on content (node
-- difficulty, verdicts per scope, skills, velocity, engagement, learners) stay
-- materialized views, refreshed CONCURRENTLY over these much smaller tables.
--
-- Which events are new is told by the inserting transaction's id, not by the
-- event id: ids are handed out before commit, so a batch with lower ids can
-- become visible after one with higher ids, and an id watermark would skip it.
-- A round takes the events of transactions that had ended by its snapshot and
-- that no round took before: below the snapshot's xmax and not among its
-- running ones, and either at or above the last round's xmax or among the
-- transactions that were still running then. Each event falls in exactly one
-- round, and a transaction left open (anywhere on the server) holds back only
-- its own events. Existing rows get the migration's own transaction id.
ALTER TABLE events ADD COLUMN xact bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint);
-- Events arrive in transaction order, so a round's window is the table's tail:
-- a BRIN index finds it for a few bytes per page (no B-tree to update per event).
CREATE INDEX events_xact_brin ON events USING brin (xact) WITH (pages_per_range = 16, autosummarize = on);

DROP MATERIALIZED VIEW insights_learners;
DROP MATERIALIZED VIEW insights_engagement;
DROP MATERIALIZED VIEW insights_weekly_velocity;
DROP MATERIALIZED VIEW insights_node_difficulty;
DROP MATERIALIZED VIEW insights_node_verdicts;
DROP MATERIALIZED VIEW insights_skill_attempts;
DROP MATERIALIZED VIEW insights_node_learners;
DROP MATERIALIZED VIEW insights_daily_activity;

-- Where the roll-ups are up to: every event of a transaction below `upto`, but
-- those of the `pending` ones (still running when the last round looked).
CREATE TABLE insights_rollup_mark (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    upto      bigint NOT NULL,
    pending   bigint[] NOT NULL
);
INSERT INTO insights_rollup_mark (upto, pending) VALUES (0, '{}');

-- One learner's day.
CREATE TABLE insights_daily_activity (
    user_id   uuid NOT NULL,
    day       date NOT NULL,
    events    bigint NOT NULL,
    runs      bigint NOT NULL,
    attempts  bigint NOT NULL,
    successes bigint NOT NULL,
    passes    bigint NOT NULL,
    CONSTRAINT insights_daily_activity_key PRIMARY KEY (user_id, day)
);
CREATE INDEX insights_daily_activity_day ON insights_daily_activity (day);

-- One learner on one node: attempts, failures, when they first touched it, when
-- they passed, when they were last there, and their last attempt.
CREATE TABLE insights_node_learners (
    node_id         bigint NOT NULL,
    user_id         uuid NOT NULL,
    attempts        bigint NOT NULL,
    failures        bigint NOT NULL,
    first_at        timestamptz NOT NULL,
    passed_at       timestamptz,
    last_at         timestamptz NOT NULL,
    last_attempt_at timestamptz,
    CONSTRAINT insights_node_learners_key PRIMARY KEY (node_id, user_id)
);
CREATE INDEX insights_node_learners_user ON insights_node_learners (user_id);
-- A scope's stuck learners (the roadblocks), read without touching the rest.
CREATE INDEX insights_node_learners_stuck ON insights_node_learners (user_id)
    INCLUDE (node_id, attempts) WHERE passed_at IS NULL AND attempts > 0;

-- The verdicts one learner got on one node.
CREATE TABLE insights_learner_verdicts (
    node_id bigint NOT NULL,
    user_id uuid NOT NULL,
    verdict text NOT NULL,
    n       bigint NOT NULL,
    CONSTRAINT insights_learner_verdicts_key PRIMARY KEY (node_id, user_id, verdict)
);

-- How hard a node is for a scope: who touched it, attempts, passes, the median
-- time from first touch to pass, and drop-off (attempted, not passed, and not
-- back on the node for 7 days).
CREATE MATERIALIZED VIEW insights_node_difficulty AS
    SELECT s.scope,
           l.node_id,
           count(*) AS learners,
           count(*) FILTER (WHERE l.attempts > 0) AS attempted,
           coalesce(sum(l.attempts), 0)::bigint AS attempts,
           count(l.passed_at) AS passed,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM l.passed_at - l.first_at))
               FILTER (WHERE l.passed_at IS NOT NULL) AS median_pass_s,
           count(*) FILTER (WHERE l.passed_at IS NULL AND l.attempts > 0
                            AND l.last_at < now() - interval '7 days') AS dropped
    FROM insights_node_learners l
    JOIN insights_scopes s USING (user_id)
    GROUP BY 1, 2;
CREATE UNIQUE INDEX insights_node_difficulty_key ON insights_node_difficulty (scope, node_id);

-- The verdicts a scope's learners got on a node (the "common wrong verdicts").
CREATE MATERIALIZED VIEW insights_node_verdicts AS
    SELECT s.scope, v.node_id, v.verdict, sum(v.n)::bigint AS n
    FROM insights_learner_verdicts v
    JOIN insights_scopes s USING (user_id)
    GROUP BY 1, 2, 3;
CREATE UNIQUE INDEX insights_node_verdicts_key ON insights_node_verdicts (scope, node_id, verdict);

-- Velocity: nodes passed per week (weeks start on Monday), and by how many learners.
CREATE MATERIALIZED VIEW insights_weekly_velocity AS
    SELECT s.scope,
           date_trunc('week', a.day)::date AS week,
           sum(a.passes)::bigint AS nodes_passed,
           count(DISTINCT a.user_id) FILTER (WHERE a.passes > 0) AS learners_passing,
           count(DISTINCT a.user_id) AS active_learners
    FROM insights_daily_activity a
    JOIN insights_scopes s USING (user_id)
    GROUP BY 1, 2;
CREATE UNIQUE INDEX insights_weekly_velocity_key ON insights_weekly_velocity (scope, week);

-- Engagement: daily and weekly (7 days ending that day) active learners, over
-- the last 90 days.
CREATE MATERIALIZED VIEW insights_engagement AS
    WITH days AS (
        SELECT d::date AS day
        FROM generate_series((now() AT TIME ZONE 'UTC')::date - 89,
                             (now() AT TIME ZONE 'UTC')::date, interval '1 day') AS d
    )
    SELECT s.scope,
           d.day,
           count(DISTINCT a.user_id) FILTER (WHERE a.day = d.day) AS dau,
           count(DISTINCT a.user_id) AS wau
    FROM days d
    JOIN insights_daily_activity a ON a.day BETWEEN d.day - 6 AND d.day
    JOIN insights_scopes s USING (user_id)
    GROUP BY 1, 2;
CREATE UNIQUE INDEX insights_engagement_key ON insights_engagement (scope, day);

-- One learner at a glance: first and last active day, active days, the current
-- and longest streak of consecutive active days, and passes in the last week
-- against the three before (velocity dropping).
CREATE MATERIALIZED VIEW insights_learners AS
    WITH islands AS (
        -- Consecutive days share one value of day minus their rank: an island.
        SELECT user_id, day, day - (row_number() OVER (PARTITION BY user_id ORDER BY day))::int AS island
        FROM insights_daily_activity
    ), streaks AS (
        SELECT user_id, count(*) AS len, max(day) AS ends
        FROM islands GROUP BY user_id, island
    ), per_learner AS (
        SELECT user_id,
               max(len) AS longest,
               max(len) FILTER (WHERE ends >= (now() AT TIME ZONE 'UTC')::date - 1) AS current
        FROM streaks GROUP BY user_id
    ), totals AS (
        SELECT user_id,
               min(day) AS first_day,
               max(day) AS last_day,
               count(*) AS active_days,
               sum(events)::bigint AS events,
               sum(attempts)::bigint AS attempts,
               sum(successes)::bigint AS successes,
               sum(passes)::bigint AS passes,
               coalesce(sum(passes) FILTER (WHERE day > (now() AT TIME ZONE 'UTC')::date - 7), 0)::bigint AS passes_7d,
               coalesce(sum(passes) FILTER (WHERE day <= (now() AT TIME ZONE 'UTC')::date - 7
                                             AND day > (now() AT TIME ZONE 'UTC')::date - 28), 0)::bigint AS passes_prev_21d
        FROM insights_daily_activity
        GROUP BY 1
    )
    SELECT t.*,
           coalesce(p.longest, 0)::bigint AS longest_streak,
           coalesce(p.current, 0)::bigint AS current_streak
    FROM totals t LEFT JOIN per_learner p USING (user_id);
CREATE UNIQUE INDEX insights_learners_key ON insights_learners (user_id);

-- Knowledge tracing's input: each learner's successes and failures per skill,
-- from their attempts per node (a verdict is a success or a failure, never
-- neither) and the skills each node exercises now.
CREATE MATERIALIZED VIEW insights_skill_attempts AS
    SELECT l.user_id,
           k.skill,
           sum(l.attempts - l.failures)::bigint AS successes,
           sum(l.failures)::bigint AS failures,
           max(l.last_attempt_at) AS last_at
    FROM insights_node_learners l
    JOIN insights_node_skills k USING (node_id)
    WHERE l.attempts > 0
    GROUP BY 1, 2;
CREATE UNIQUE INDEX insights_skill_attempts_key ON insights_skill_attempts (user_id, skill);
