-- Accounts, roles and cohorts: the foundation every capability builds on.
-- E-mails are stored as the domain type makes them (trimmed, lower-cased), so a
-- plain UNIQUE constraint is the "one account per address" rule.

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email         text NOT NULL,
    display_name  text NOT NULL,
    -- argon2id PHC string: algorithm, parameters and salt travel with the hash.
    password_hash text NOT NULL,
    role          text NOT NULL DEFAULT 'learner',
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_role_check CHECK (role IN ('learner', 'instructor', 'admin')),
    CONSTRAINT users_email_length CHECK (char_length(email) BETWEEN 3 AND 254),
    CONSTRAINT users_display_name_length CHECK (char_length(display_name) BETWEEN 1 AND 50)
);

-- A cohort belongs to the instructor who made it; learners join with its invite code.
CREATE TABLE cohorts (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name              text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 80),
    instructor_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invite_code       text NOT NULL,
    invite_expires_at timestamptz NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cohorts_invite_code_key UNIQUE (invite_code)
);

CREATE INDEX cohorts_instructor_idx ON cohorts (instructor_id);

CREATE TABLE cohort_members (
    cohort_id uuid NOT NULL REFERENCES cohorts (id) ON DELETE CASCADE,
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cohort_id, user_id)
);

CREATE INDEX cohort_members_user_idx ON cohort_members (user_id);
