-- Rotation connectors, rotation targets of secrets, dynamic PostgreSQL
-- configurations and their leases. Connector and dynamic configurations are
-- stored encrypted by the vault barrier (`key_term` names the data key);
-- `summary` holds only the kind and the endpoint without credentials.

CREATE TABLE rotation_connectors (
    name        TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    summary     TEXT NOT NULL,
    key_term    INTEGER NOT NULL,
    ciphertext  BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE rotation_targets (
    path             TEXT PRIMARY KEY,
    connector        TEXT NOT NULL REFERENCES rotation_connectors(name),
    account          TEXT NOT NULL,
    field            TEXT NOT NULL,
    password_policy  TEXT,
    last_attempt_at  TEXT,
    last_error_code  TEXT,
    updated_at       TEXT NOT NULL
);

CREATE TABLE database_configs (
    name        TEXT PRIMARY KEY,
    summary     TEXT NOT NULL,
    key_term    INTEGER NOT NULL,
    ciphertext  BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE database_leases (
    id                   TEXT PRIMARY KEY,
    bot_id               TEXT NOT NULL,
    config               TEXT NOT NULL,
    username             TEXT NOT NULL,
    target               TEXT NOT NULL,
    issued_at            TEXT NOT NULL,
    expires_at           TEXT NOT NULL,
    revoke_requested_at  TEXT,
    revoked_at           TEXT,
    last_error_code      TEXT
);
CREATE INDEX database_leases_open ON database_leases(revoked_at, expires_at);
CREATE INDEX database_leases_bot ON database_leases(bot_id);
