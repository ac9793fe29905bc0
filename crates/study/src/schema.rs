//! The study schema in PostgreSQL, created and versioned by the program.

/// The schema version this program writes (in `metanas_schema`).
pub const SCHEMA_VERSION: i32 = 1;

/// Key (first half) of the advisory locks of metanas; the second half names what is locked.
pub(crate) const LOCK_SPACE: i32 = 0x6d6e;
/// Advisory lock (second half) held while the schema is created or migrated.
pub(crate) const SCHEMA_LOCK: i32 = 0;

/// The tables of version 1, created if missing.
pub(crate) const CREATE_V1: &str = "
CREATE TABLE IF NOT EXISTS metanas_schema (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS metanas_studies (
    id bigserial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    settings_key text NOT NULL,
    budget integer NOT NULL,
    seed bigint NOT NULL,
    maximize boolean NOT NULL,
    max_attempts integer NOT NULL,
    lease_seconds double precision NOT NULL,
    exhausted boolean NOT NULL DEFAULT false,
    final_state text NOT NULL DEFAULT 'pending' CHECK (final_state IN ('pending', 'running', 'done')),
    final_worker text,
    final_dir text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS metanas_trials (
    study_id bigint NOT NULL REFERENCES metanas_studies (id),
    number integer NOT NULL,
    architecture text NOT NULL,
    canonical_hash text NOT NULL,
    state text NOT NULL CHECK (state IN ('waiting', 'running', 'complete', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    worker text,
    lease_until timestamptz,
    objective double precision,
    report double precision,
    seconds double precision,
    outcome text,
    failure text,
    proposed_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    PRIMARY KEY (study_id, number),
    UNIQUE (study_id, canonical_hash)
);
CREATE INDEX IF NOT EXISTS metanas_trials_waiting
    ON metanas_trials (study_id, number) WHERE state = 'waiting';
CREATE TABLE IF NOT EXISTS metanas_workers (
    study_id bigint NOT NULL REFERENCES metanas_studies (id),
    worker text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    out_dir text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    heartbeat timestamptz NOT NULL DEFAULT now(),
    completed integer NOT NULL DEFAULT 0,
    refused integer NOT NULL DEFAULT 0,
    left_at timestamptz,
    PRIMARY KEY (study_id, worker)
);
";
