-- Arena: battles, the deltas that make them, submissions in them, results and
-- ratings. The battle's state itself lives in its actor and in its deltas;
-- these tables hold what must survive any instance.

CREATE TABLE battles (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- What players share to join: 6 letters and digits, upper case.
    code          text NOT NULL,
    mode          text NOT NULL,
    public        boolean NOT NULL,
    -- eduscale_core::battle::Settings as JSON.
    settings      jsonb NOT NULL,
    created_by    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    status        text NOT NULL DEFAULT 'lobby',
    -- The fencing token. Each instance that takes the battle's lease bumps it and
    -- names it in every write; a write naming an older epoch changes nothing, so
    -- an owner that was paused past its lease cannot write after its successor.
    lease_epoch   bigint NOT NULL DEFAULT 0,
    challenge_id  uuid REFERENCES challenges (id),
    started_at    timestamptz,
    finished_at   timestamptz,
    finish_reason text,
    CONSTRAINT battles_code_key UNIQUE (code),
    CONSTRAINT battles_code_format CHECK (code ~ '^[A-Z0-9]{6}$'),
    CONSTRAINT battles_mode_check CHECK (mode IN ('duel', 'group')),
    CONSTRAINT battles_status_check CHECK (status IN ('lobby', 'running', 'finished'))
);

-- The lobby's list of open public rooms, newest first.
CREATE INDEX battles_open_idx ON battles (created_at DESC) WHERE public AND status <> 'finished';

-- Every delta of every battle, in order (postcard bytes of
-- eduscale_core::battle::Delta): what a new owner rebuilds from and what a replay
-- plays. Written in batches, behind the Redis log that carries them live.
CREATE TABLE battle_deltas (
    battle_id bigint NOT NULL REFERENCES battles (id) ON DELETE CASCADE,
    seq       bigint NOT NULL,
    delta     bytea NOT NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (battle_id, seq),
    CONSTRAINT battle_deltas_seq_positive CHECK (seq > 0)
);

-- Submissions in battles: stored when received (with the server's clock), judged
-- after. A new owner judges the ones still pending. One received after the battle
-- closed is kept and marked too late; it never changes a result.
CREATE TABLE battle_submissions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    battle_id     bigint NOT NULL REFERENCES battles (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    language      text NOT NULL,
    source        text NOT NULL,
    -- Milliseconds since the Unix epoch on the owner's clock: what the rules compare.
    received_ms   bigint NOT NULL,
    hidden_passed integer,
    hidden_total  integer,
    outcome       text,
    judged_at     timestamptz,
    CONSTRAINT battle_submissions_outcome_check CHECK (outcome IN ('counted', 'too_late'))
);

CREATE INDEX battle_submissions_pending_idx ON battle_submissions (battle_id, id) WHERE outcome IS NULL;

-- Each player's result, written once, in the transaction that finishes the
-- battle (the primary key makes a second finish fail rather than count twice).
CREATE TABLE battle_results (
    battle_id     bigint NOT NULL REFERENCES battles (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    rank          integer NOT NULL,
    score         integer NOT NULL,
    solved_ms     bigint,
    rating_before integer NOT NULL,
    rating_after  integer NOT NULL,
    PRIMARY KEY (battle_id, user_id)
);

CREATE INDEX battle_results_user_idx ON battle_results (user_id);

-- Weng-Lin ratings (mu, sigma), and the number shown: round(40 * mu), so a new
-- player starts at 1000.
CREATE TABLE ratings (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    mu         double precision NOT NULL,
    sigma      double precision NOT NULL,
    rating     integer NOT NULL,
    battles    integer NOT NULL DEFAULT 0,
    wins       integer NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX ratings_rating_idx ON ratings (rating DESC);
