-- Insights: every meaningful action as an event, the aggregates instructors read,
-- and the fitted knowledge-tracing model.
--
-- Events are an append-only log written in batches by server/src/insights/ingest.rs.
-- `user_id` has no foreign key on purpose: a row-level RI check per event would
-- halve the ingest rate, and an event names a user that existed when it happened.

CREATE TABLE events (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Server time; clients never say when something happened.
    at        timestamptz NOT NULL DEFAULT now(),
    user_id   uuid NOT NULL,
    kind      text NOT NULL,
    -- The path node it concerns (views, attempts, passes, remediation).
    node_id   bigint,
    battle_id bigint,
    -- Verdict events: whether every test passed, and the verdict's name.
    passed    boolean,
    verdict   text,
    -- Page views reported by the browser: the page's path.
    page      text,
    CONSTRAINT events_kind_check CHECK (kind IN (
        'log_in', 'page_view', 'node_viewed', 'run', 'submitted', 'verdict',
        'node_passed', 'remediation_opened', 'battle_joined', 'battle_finished'
    )),
    CONSTRAINT events_page_length CHECK (char_length(page) <= 300),
    CONSTRAINT events_verdict_given CHECK ((kind = 'verdict') = (passed IS NOT NULL))
);

-- A learner's timeline, and the per-learner aggregates.
CREATE INDEX events_user_at_idx ON events (user_id, at);
-- A node's attempts (node drill-down, and the views grouped by node).
CREATE INDEX events_node_idx ON events (node_id, user_id) WHERE node_id IS NOT NULL;
-- Time ranges over the whole log (tiny: events arrive in time order).
CREATE INDEX events_at_brin ON events USING brin (at);

-- Who a dashboard scope covers: each cohort's members, and under the nil uuid
-- every learner (the platform, for admins). A view, so membership changes show
-- at the next refresh.
CREATE VIEW insights_scopes AS
    SELECT cohort_id AS scope, user_id FROM cohort_members
    UNION ALL
    SELECT '00000000-0000-0000-0000-000000000000'::uuid, id FROM users WHERE role = 'learner';

-- The skills each challenge node exercises (from the challenge's `skills`).
CREATE VIEW insights_node_skills AS
    SELECT n.id AS node_id, s.skill
    FROM path_nodes n
    JOIN challenges c ON c.id = n.challenge_id
    CROSS JOIN LATERAL unnest(c.skills) AS s (skill);

-- Every materialized view below has a unique index on plain columns: REFRESH
-- ... CONCURRENTLY needs one, and it is what lets dashboards read during a refresh.

-- One learner's day.
CREATE MATERIALIZED VIEW insights_daily_activity AS
    SELECT user_id,
           (at AT TIME ZONE 'UTC')::date AS day,
           count(*) AS events,
           count(*) FILTER (WHERE kind = 'run') AS runs,
           count(*) FILTER (WHERE kind = 'verdict') AS attempts,
           count(*) FILTER (WHERE kind = 'verdict' AND passed) AS successes,
           count(*) FILTER (WHERE kind = 'node_passed') AS passes
    FROM events
    GROUP BY 1, 2;
CREATE UNIQUE INDEX insights_daily_activity_key ON insights_daily_activity (user_id, day);
CREATE INDEX insights_daily_activity_day ON insights_daily_activity (day);

-- One learner on one node: attempts, failures, when they first touched it, when
-- they passed, when they were last there.
CREATE MATERIALIZED VIEW insights_node_learners AS
    SELECT node_id,
           user_id,
           count(*) FILTER (WHERE kind = 'verdict') AS attempts,
           count(*) FILTER (WHERE kind = 'verdict' AND NOT passed) AS failures,
           min(at) AS first_at,
           min(at) FILTER (WHERE kind = 'node_passed') AS passed_at,
           max(at) AS last_at
    FROM events
    WHERE node_id IS NOT NULL
    GROUP BY 1, 2;
CREATE UNIQUE INDEX insights_node_learners_key ON insights_node_learners (node_id, user_id);
CREATE INDEX insights_node_learners_user ON insights_node_learners (user_id);
-- A scope's stuck learners (the roadblocks), read without touching the rest.
CREATE INDEX insights_node_learners_stuck ON insights_node_learners (user_id)
    INCLUDE (node_id, attempts) WHERE passed_at IS NULL AND attempts > 0;

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
    SELECT s.scope, e.node_id, e.verdict, count(*) AS n
    FROM events e
    JOIN insights_scopes s USING (user_id)
    WHERE e.kind = 'verdict' AND e.node_id IS NOT NULL AND e.verdict IS NOT NULL
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

-- Knowledge tracing's input: each learner's successes and failures per skill.
CREATE MATERIALIZED VIEW insights_skill_attempts AS
    SELECT e.user_id,
           k.skill,
           count(*) FILTER (WHERE e.passed) AS successes,
           count(*) FILTER (WHERE NOT e.passed) AS failures,
           max(e.at) AS last_at
    FROM events e
    JOIN insights_node_skills k USING (node_id)
    WHERE e.kind = 'verdict'
    GROUP BY 1, 2;
CREATE UNIQUE INDEX insights_skill_attempts_key ON insights_skill_attempts (user_id, skill);

-- The fitted knowledge-tracing model (one row per model name), refitted by the
-- instance that refreshes the views.
CREATE TABLE insights_models (
    name      text PRIMARY KEY,
    params    jsonb NOT NULL,
    attempts  bigint NOT NULL,
    auc       double precision,
    fitted_at timestamptz NOT NULL DEFAULT now()
);

-- The hidden skill levels `eduscale seed` drew for its generated learners, so the
-- evaluation can compare the model with the truth. Empty on a real platform.
CREATE TABLE insights_seed_truth (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    skill      text NOT NULL,
    -- Probability of passing an attempt before any practice, and after much.
    initial    double precision NOT NULL,
    mastered   double precision NOT NULL,
    -- How fast practice moves the learner from one to the other.
    learn_rate double precision NOT NULL,
    PRIMARY KEY (user_id, skill)
);
