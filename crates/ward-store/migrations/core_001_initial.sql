CREATE TABLE people (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    status      TEXT NOT NULL CHECK (status IN ('active', 'left')),
    created_at  TEXT NOT NULL,
    left_at     TEXT
);

CREATE TABLE operators (
    id              TEXT PRIMARY KEY,
    person_id       TEXT NOT NULL UNIQUE REFERENCES people(id),
    username        TEXT NOT NULL UNIQUE COLLATE NOCASE,
    password_hash   TEXT NOT NULL,
    totp_secret     BLOB,
    roles           TEXT NOT NULL,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    TEXT,
    created_at      TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash   BLOB PRIMARY KEY,
    operator_id  TEXT REFERENCES operators(id),
    subject      TEXT NOT NULL,
    roles        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL
);
CREATE INDEX sessions_expires ON sessions(expires_at);

CREATE TABLE bots (
    id                    TEXT PRIMARY KEY,
    name                  TEXT NOT NULL UNIQUE,
    purpose               TEXT NOT NULL,
    owner_id              TEXT NOT NULL REFERENCES people(id),
    backup_owner_id       TEXT NOT NULL REFERENCES people(id),
    platform              TEXT NOT NULL,
    state                 TEXT NOT NULL CHECK (state IN ('active', 'suspended', 'quarantined', 'retired')),
    state_reason          TEXT,
    review_by             TEXT NOT NULL,
    review_overdue_since  TEXT,
    owner_flag            TEXT,
    created_by            TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE INDEX bots_owner ON bots(owner_id);
CREATE INDEX bots_backup_owner ON bots(backup_owner_id);

CREATE TABLE workflow_versions (
    id                     TEXT PRIMARY KEY,
    bot_id                 TEXT NOT NULL REFERENCES bots(id),
    name                   TEXT NOT NULL,
    version                INTEGER NOT NULL,
    content_sha256         TEXT NOT NULL,
    size_bytes             INTEGER NOT NULL,
    summary                TEXT NOT NULL,
    changed_by             TEXT NOT NULL,
    changed_at             TEXT NOT NULL,
    outside_working_hours  INTEGER NOT NULL,
    UNIQUE (bot_id, name, version)
);
CREATE INDEX workflow_versions_sha ON workflow_versions(content_sha256);

CREATE TABLE access_requests (
    id             TEXT PRIMARY KEY,
    bot_id         TEXT NOT NULL REFERENCES bots(id),
    privilege      TEXT NOT NULL,
    justification  TEXT NOT NULL,
    requested_by   TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied')),
    decided_by     TEXT,
    decided_at     TEXT,
    decision_note  TEXT,
    created_at     TEXT NOT NULL
);
