-- Challenges, their test cases, and learners' submissions to them.
-- General on purpose: the playground, learning paths and the arena all judge
-- against these; content is imported into them (upserted by slug).

CREATE TABLE challenges (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- The stable name content and URLs use: lower-case words joined by dashes.
    slug               text NOT NULL,
    title              text NOT NULL,
    -- Markdown, rendered by the page that shows the challenge.
    statement          text NOT NULL DEFAULT '',
    -- How output is compared (eduscale_core::code::Checker as JSON, tagged by "kind").
    checker            jsonb NOT NULL DEFAULT '{"kind": "exact"}',
    -- The limits of one test case's run; the runner clamps them to its maxima.
    time_limit_ms      integer NOT NULL DEFAULT 5000,
    fuel_limit         bigint NOT NULL DEFAULT 20000000000,
    memory_limit_bytes bigint NOT NULL DEFAULT 268435456,
    output_limit_bytes integer NOT NULL DEFAULT 1048576,
    created_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT challenges_slug_key UNIQUE (slug),
    CONSTRAINT challenges_slug_format CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' AND char_length(slug) <= 80),
    CONSTRAINT challenges_title_length CHECK (char_length(title) BETWEEN 1 AND 120),
    CONSTRAINT challenges_checker_kind CHECK (checker ? 'kind'),
    CONSTRAINT challenges_limits_positive CHECK (
        time_limit_ms > 0 AND fuel_limit > 0 AND memory_limit_bytes > 0 AND output_limit_bytes > 0
    )
);

-- A challenge's test cases, in order. Hidden ones (visible = false) never leave
-- the server: not their input, not their expected output, not what a program
-- printed on them.
CREATE TABLE challenge_tests (
    challenge_id uuid NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    position     integer NOT NULL CHECK (position >= 0),
    stdin        text NOT NULL,
    expected     text NOT NULL,
    visible      boolean NOT NULL DEFAULT false,
    PRIMARY KEY (challenge_id, position)
);

-- Every judged submission, written before the verdict is sent back. The whole
-- judgement is kept as JSON for review; verdict, passed and total are columns
-- for progress and statistics queries.
CREATE TABLE submissions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    challenge_id uuid NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    -- A language id (python, javascript, ...); not a closed list, so adding a
    -- language needs no migration.
    language     text NOT NULL,
    source       text NOT NULL,
    verdict      text NOT NULL,
    passed       integer NOT NULL,
    total        integer NOT NULL,
    judgement    jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT submissions_verdict_check CHECK (verdict IN (
        'accepted', 'wrong_answer', 'runtime_error', 'time_limit',
        'memory_limit', 'output_limit', 'compile_error'
    )),
    CONSTRAINT submissions_counts CHECK (total > 0 AND passed BETWEEN 0 AND total)
);

-- "My submissions to this challenge, newest first", and per-challenge statistics.
CREATE INDEX submissions_user_challenge_idx ON submissions (user_id, challenge_id, created_at DESC);
CREATE INDEX submissions_challenge_idx ON submissions (challenge_id, created_at DESC);
