CREATE TABLE events (
    uid          TEXT PRIMARY KEY,
    time         TEXT NOT NULL,
    identity     TEXT NOT NULL,
    source       TEXT NOT NULL,
    body         TEXT NOT NULL,
    ingested_at  TEXT NOT NULL
);
CREATE INDEX events_identity_time ON events(identity, time);
CREATE INDEX events_source_time ON events(source, time);

CREATE TABLE alerts (
    id          TEXT PRIMARY KEY,
    identity    TEXT NOT NULL,
    score       INTEGER NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'false_positive')),
    revision    INTEGER NOT NULL,
    last_seen   TEXT NOT NULL,
    body        TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    decided_by  TEXT,
    note        TEXT
);
CREATE INDEX alerts_identity ON alerts(identity);
CREATE INDEX alerts_status_score ON alerts(status, score);

CREATE TABLE baselines (
    identity    TEXT PRIMARY KEY,
    snapshot    TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE activity_cursor (
    name  TEXT PRIMARY KEY,
    seq   INTEGER NOT NULL
);

CREATE TABLE findings (
    id                 TEXT PRIMARY KEY,
    fingerprint        TEXT NOT NULL UNIQUE,
    rule_id            TEXT NOT NULL,
    file               TEXT NOT NULL,
    line               INTEGER,
    file_sha256        TEXT,
    bot_id             TEXT REFERENCES bots(id),
    body               TEXT NOT NULL,
    first_reported_at  TEXT NOT NULL,
    last_reported_at   TEXT NOT NULL,
    reported_by        TEXT NOT NULL
);
CREATE INDEX findings_bot ON findings(bot_id);
