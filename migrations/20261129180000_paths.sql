-- Learning paths: node graphs of lessons and challenges, and each learner's
-- progress on them. The unlock rules live in eduscale_core::paths; the queries in
-- server/src/paths/queries.rs mirror them in recursive CTEs, and a property test
-- keeps the two equal.

-- What content import adds to a challenge: how hard it is, whether battles may
-- use it, the skills it exercises (for knowledge tracing), the languages it can
-- be solved in, the starter code per language, and the statement as HTML
-- (rendered once, at import, with highlighted code).
ALTER TABLE challenges
    ADD COLUMN difficulty     smallint NOT NULL DEFAULT 1,
    ADD COLUMN battle         boolean NOT NULL DEFAULT false,
    ADD COLUMN skills         text[] NOT NULL DEFAULT '{}',
    ADD COLUMN languages      text[] NOT NULL DEFAULT '{}',
    ADD COLUMN starters       jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN statement_html text NOT NULL DEFAULT '',
    -- A hash of the imported files: re-importing unchanged content writes nothing.
    ADD COLUMN content_hash   text,
    ADD CONSTRAINT challenges_difficulty_range CHECK (difficulty BETWEEN 1 AND 5);

CREATE INDEX challenges_battle_idx ON challenges (difficulty) WHERE battle;

CREATE TABLE paths (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug         text NOT NULL,
    title        text NOT NULL,
    summary      text NOT NULL DEFAULT '',
    -- The language a path's challenges start in (a language id).
    language     text NOT NULL,
    -- Its place in the list of paths.
    position     integer NOT NULL DEFAULT 0,
    content_hash text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT paths_slug_key UNIQUE (slug),
    CONSTRAINT paths_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) <= 80),
    CONSTRAINT paths_title_length CHECK (char_length(title) BETWEEN 1 AND 120)
);

-- Integer ids: the unlock CTEs join these thousands of times per query.
CREATE TABLE path_nodes (
    id                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    path_id                  uuid NOT NULL REFERENCES paths (id) ON DELETE CASCADE,
    -- Unique within the path; content and URLs name nodes by it.
    key                      text NOT NULL,
    -- The node's index in eduscale_core::paths::PathGraph (its order in the file).
    position                 integer NOT NULL,
    kind                     text NOT NULL,
    title                    text NOT NULL,
    -- Lessons: the text as HTML (rendered at import).
    body_html                text NOT NULL DEFAULT '',
    challenge_id             uuid REFERENCES challenges (id) ON DELETE RESTRICT,
    -- A remedial node: the node it helps with. It opens when the learner struggles there.
    remedial_for             bigint REFERENCES path_nodes (id) ON DELETE CASCADE,
    pass_score               smallint NOT NULL DEFAULT 100,
    remediate_after_failures integer NOT NULL DEFAULT 3,
    remediate_below_score    smallint NOT NULL DEFAULT 50,
    CONSTRAINT path_nodes_key_unique UNIQUE (path_id, key),
    CONSTRAINT path_nodes_position_unique UNIQUE (path_id, position) DEFERRABLE INITIALLY DEFERRED,
    CONSTRAINT path_nodes_kind_check CHECK (kind IN ('lesson', 'challenge', 'checkpoint')),
    CONSTRAINT path_nodes_challenge_given CHECK ((kind = 'lesson') = (challenge_id IS NULL)),
    CONSTRAINT path_nodes_scores CHECK (pass_score BETWEEN 0 AND 100 AND remediate_below_score BETWEEN 0 AND 100),
    CONSTRAINT path_nodes_failures CHECK (remediate_after_failures >= 1)
);

CREATE INDEX path_nodes_remedial_idx ON path_nodes (remedial_for) WHERE remedial_for IS NOT NULL;
CREATE INDEX path_nodes_challenge_idx ON path_nodes (challenge_id) WHERE challenge_id IS NOT NULL;

-- Prerequisites: `from_node` must be passed with `min_score` before `to_node`
-- opens. Edges into one node with the same `grp` are alternatives (any one
-- suffices); different groups are all required. `ordinal` orders the
-- alternatives (the first is the preferred route).
CREATE TABLE path_edges (
    path_id   uuid NOT NULL REFERENCES paths (id) ON DELETE CASCADE,
    from_node bigint NOT NULL REFERENCES path_nodes (id) ON DELETE CASCADE,
    to_node   bigint NOT NULL REFERENCES path_nodes (id) ON DELETE CASCADE,
    min_score smallint NOT NULL DEFAULT 0,
    grp       integer NOT NULL,
    ordinal   integer NOT NULL,
    PRIMARY KEY (from_node, to_node),
    CONSTRAINT path_edges_no_self_loop CHECK (from_node <> to_node),
    CONSTRAINT path_edges_min_score CHECK (min_score BETWEEN 0 AND 100)
);

CREATE INDEX path_edges_to_idx ON path_edges (to_node, grp, ordinal);
CREATE INDEX path_edges_path_idx ON path_edges (path_id);

-- A checkpoint's guarded nodes: passing it tests the learner out of them.
CREATE TABLE path_guards (
    checkpoint bigint NOT NULL REFERENCES path_nodes (id) ON DELETE CASCADE,
    node       bigint NOT NULL REFERENCES path_nodes (id) ON DELETE CASCADE,
    PRIMARY KEY (checkpoint, node)
);

-- One learner on one node. Only what the learner did is stored (in progress,
-- passed, skipped by a test-out); locked and open are computed from it.
CREATE TABLE progress (
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    node_id         bigint NOT NULL REFERENCES path_nodes (id) ON DELETE CASCADE,
    -- Denormalised from the node so one index serves "this learner on this path".
    path_id         uuid NOT NULL REFERENCES paths (id) ON DELETE CASCADE,
    stage           text NOT NULL,
    best_score      smallint NOT NULL DEFAULT 0,
    attempts        integer NOT NULL DEFAULT 0,
    failures        integer NOT NULL DEFAULT 0,
    -- Seconds on the node, counted from page views and attempts, each gap capped
    -- so a tab left open overnight does not count.
    time_spent_s    integer NOT NULL DEFAULT 0,
    first_opened_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    passed_at       timestamptz,
    PRIMARY KEY (user_id, node_id),
    CONSTRAINT progress_stage_check CHECK (stage IN ('in_progress', 'passed', 'skipped')),
    CONSTRAINT progress_counts CHECK (
        best_score BETWEEN 0 AND 100 AND attempts >= 0 AND failures BETWEEN 0 AND attempts
        AND time_spent_s >= 0
    )
);

CREATE INDEX progress_user_path_idx ON progress (user_id, path_id);
-- Insights and instructors read a node's learners.
CREATE INDEX progress_node_idx ON progress (node_id);
