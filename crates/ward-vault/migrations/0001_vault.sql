-- The barrier: one row holding the seal configuration, the root key
-- encrypted by the unseal key, and the keyring encrypted by the root key.
CREATE TABLE vault_seal (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret_shares INTEGER NOT NULL,
    secret_threshold INTEGER NOT NULL,
    root_key_ciphertext BLOB NOT NULL,
    keyring_ciphertext BLOB NOT NULL,
    keyring_generation INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- KV version 2 mount configuration (one row; absent means the defaults).
CREATE TABLE vault_kv_config (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    max_versions INTEGER NOT NULL DEFAULT 0,
    cas_required INTEGER NOT NULL DEFAULT 0,
    delete_version_after_s INTEGER NOT NULL DEFAULT 0
);

-- One row per KV key: the key metadata. Times are unix nanoseconds, UTC.
CREATE TABLE vault_kv_keys (
    path TEXT PRIMARY KEY,
    current_version INTEGER NOT NULL DEFAULT 0,
    oldest_version INTEGER NOT NULL DEFAULT 0,
    max_versions INTEGER NOT NULL DEFAULT 0,
    cas_required INTEGER NOT NULL DEFAULT 0,
    delete_version_after_s INTEGER NOT NULL DEFAULT 0,
    custom_metadata TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    owners TEXT NOT NULL DEFAULT '[]',
    rotation_interval_s INTEGER,
    rotation_grace_s INTEGER NOT NULL DEFAULT 0,
    last_rotated_at INTEGER,
    last_read_at INTEGER
);

-- One row per version. `ciphertext` is NULL once the version is destroyed.
CREATE TABLE vault_kv_versions (
    path TEXT NOT NULL REFERENCES vault_kv_keys(path) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    deletion_at INTEGER,
    destroyed INTEGER NOT NULL DEFAULT 0,
    key_term INTEGER,
    ciphertext BLOB,
    PRIMARY KEY (path, version)
);
CREATE INDEX vault_kv_versions_term ON vault_kv_versions(key_term);

-- Values staged by a rotation, waiting for the connector to confirm.
CREATE TABLE vault_kv_pending (
    id TEXT PRIMARY KEY,
    path TEXT NOT NULL REFERENCES vault_kv_keys(path) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    key_term INTEGER NOT NULL,
    ciphertext BLOB NOT NULL
);

-- AppRole roles, one per bot.
CREATE TABLE vault_roles (
    role_name TEXT PRIMARY KEY,
    bot_id TEXT NOT NULL UNIQUE,
    role_id TEXT NOT NULL UNIQUE,
    secret_id_ttl_s INTEGER NOT NULL,
    secret_id_num_uses INTEGER NOT NULL,
    token_ttl_s INTEGER NOT NULL,
    token_max_ttl_s INTEGER NOT NULL,
    secret_id_bound_cidrs TEXT NOT NULL DEFAULT '[]',
    token_bound_cidrs TEXT NOT NULL DEFAULT '[]',
    token_policies TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL
);

-- Secret ids, stored only as keyed hashes.
CREATE TABLE vault_secret_ids (
    id_hash TEXT PRIMARY KEY,
    accessor TEXT NOT NULL UNIQUE,
    role_name TEXT NOT NULL REFERENCES vault_roles(role_name) ON DELETE CASCADE,
    bot_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    uses_left INTEGER NOT NULL,
    num_uses INTEGER NOT NULL,
    cidr_list TEXT NOT NULL DEFAULT '[]',
    token_bound_cidrs TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX vault_secret_ids_bot ON vault_secret_ids(bot_id);

-- Tokens, stored only as keyed hashes.
CREATE TABLE vault_tokens (
    token_hash TEXT PRIMARY KEY,
    accessor TEXT NOT NULL UNIQUE,
    bot_id TEXT,
    policies TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    display_name TEXT NOT NULL,
    path TEXT NOT NULL,
    entity_id TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    ttl_s INTEGER NOT NULL,
    expires_at INTEGER,
    max_expires_at INTEGER,
    renewable INTEGER NOT NULL,
    num_uses INTEGER NOT NULL,
    bound_cidrs TEXT NOT NULL DEFAULT '[]',
    last_renewal_at INTEGER
);
CREATE INDEX vault_tokens_bot ON vault_tokens(bot_id);
CREATE INDEX vault_tokens_expires ON vault_tokens(expires_at);

-- Which paths each bot may use, with which capabilities.
CREATE TABLE vault_grants (
    id TEXT PRIMARY KEY,
    bot_id TEXT NOT NULL,
    path_pattern TEXT NOT NULL,
    capabilities TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
);
CREATE INDEX vault_grants_bot ON vault_grants(bot_id);
