//! Helpers for the rotation tests: the PostgreSQL test server, login roles
//! with unique names, stored-password checks, and reading vault secrets and
//! audit entries.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of these helpers"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers"
)]

use std::str::FromStr;
use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use ward_connect::PgAdmin;

use crate::common::TestServer;
use crate::vault_support::vault;

/// Environment variable naming the PostgreSQL test server.
pub const URL_VAR: &str = "WARD_TEST_POSTGRES_URL";

/// Returns the test server's URL, or `None` after printing a SKIPPED line
/// to the stderr handle, which the test harness does not capture.
pub fn postgres_url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let line = format!("SKIPPED: {URL_VAR} not set\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            None
        }
    }
}

/// Returns a lowercase name unique to this run, such as `wr_3f9a2c10e4b7d265`.
pub fn unique(prefix: &str) -> String {
    use std::hash::BuildHasher;
    // Each RandomState is seeded with fresh random keys.
    let random = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
    format!("{prefix}_{random:016x}")
}

/// Returns `url` with `password` put into it. A server that trusts loopback
/// ignores it, so it only has to stay out of what Ward shows and stores.
pub fn url_with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap();
    let (user, host) = rest.split_once('@').unwrap();
    let user = user.split(':').next().unwrap();
    format!("{scheme}://{user}:{password}@{host}")
}

/// Runs `work` on a fresh single-thread runtime.
pub fn block_on<F: std::future::Future>(work: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(work)
}

async fn admin_connection(url: &str) -> PgConnection {
    let options = PgConnectOptions::from_str(url)
        .unwrap()
        .disable_statement_logging();
    PgConnection::connect_with(&options).await.unwrap()
}

/// Creates a login role with `password`.
pub fn create_role(url: &str, role: &str, password: &str) {
    block_on(async {
        let mut connection = admin_connection(url).await;
        let statement: String = sqlx::query_scalar(
            "SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', $1::text, $2::text)",
        )
        .bind(role)
        .bind(password)
        .fetch_one(&mut connection)
        .await
        .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut connection)
            .await
            .unwrap();
    });
}

/// Drops a role if it exists, ending its sessions first.
pub fn drop_role(url: &str, role: &str) {
    block_on(async {
        let mut connection = admin_connection(url).await;
        let _ = sqlx::query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1",
        )
        .bind(role)
        .execute(&mut connection)
        .await;
        let statement: String =
            sqlx::query_scalar("SELECT format('DROP ROLE IF EXISTS %I', $1::text)")
                .bind(role)
                .fetch_one(&mut connection)
                .await
                .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(&mut connection)
            .await
            .unwrap();
    });
}

/// Whether a role of that name exists.
pub fn role_exists(url: &str, role: &str) -> bool {
    block_on(async {
        let mut connection = admin_connection(url).await;
        let found: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_roles WHERE rolname = $1")
            .bind(role)
            .fetch_optional(&mut connection)
            .await
            .unwrap();
        found.is_some()
    })
}

/// Whether `password` is the stored password of `role`: logs in as the role
/// and compares the stored SCRAM verifier, which matters on a server that
/// trusts loopback logins.
pub fn password_matches(url: &str, role: &str, password: &str) -> bool {
    block_on(async {
        let admin = PgAdmin::from_url(
            "admin_url",
            &SecretString::from(url.to_string()),
            Duration::from_secs(10),
        )
        .unwrap();
        admin
            .check_password(role, &SecretString::from(password.to_string()))
            .await
            .is_ok()
    })
}

/// Opens a session as `role` and keeps it on its own runtime, to check
/// that sessions opened before a rotation keep working.
pub struct Session {
    runtime: tokio::runtime::Runtime,
    connection: PgConnection,
}

impl Session {
    pub fn open(url: &str, role: &str, password: &str) -> Session {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let options = PgConnectOptions::from_str(url)
            .unwrap()
            .username(role)
            .password(password)
            .disable_statement_logging();
        let connection = runtime
            .block_on(PgConnection::connect_with(&options))
            .unwrap();
        Session {
            runtime,
            connection,
        }
    }

    /// Runs `SELECT 1` and returns whether it worked.
    pub fn works(&mut self) -> bool {
        let connection = &mut self.connection;
        self.runtime
            .block_on(sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(connection))
            .is_ok_and(|one| one == 1)
    }
}

/// Writes `data` as the next version of `path` as root.
pub fn write_secret(server: &TestServer, path: &str, data: Value) {
    let reply = vault(
        server,
        "POST",
        &format!("/v1/secret/data/{path}"),
        &server.root_token,
        Some(json!({"data": data})),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
}

/// Reads `path` (a version, or the current one) with `token`; returns the
/// data and the version number.
pub fn read_secret(
    server: &TestServer,
    token: &str,
    path: &str,
    version: Option<u64>,
) -> (Value, u64) {
    let query = version.map(|v| format!("?version={v}")).unwrap_or_default();
    let reply = vault(
        server,
        "GET",
        &format!("/v1/secret/data/{path}{query}"),
        token,
        None,
    );
    assert_eq!(reply.status, 200, "reading {path}{query}: {}", reply.text);
    let data = reply.json["data"]["data"].clone();
    let version = reply.json["data"]["metadata"]["version"].as_u64().unwrap();
    (data, version)
}

/// The audit entries of `action`, with `details` parsed.
pub fn audit_of(server: &TestServer, action: &str) -> Vec<Value> {
    server
        .audit(&format!("action={action}"))
        .into_iter()
        .map(|mut entry| {
            let details = entry["details"]
                .as_str()
                .map(|text| serde_json::from_str(text).unwrap());
            if let Some(details) = details {
                entry["details"] = details;
            }
            entry
        })
        .collect()
}

/// Stores a PostgreSQL connector named `name` as root.
pub fn put_postgres_connector(server: &TestServer, name: &str, admin_url: &str) -> Value {
    let (status, body) = server.call(
        "PUT",
        &format!("/v1/vault/connectors/{name}"),
        Some(json!({"kind": "postgres", "admin_url": admin_url})),
    );
    assert_eq!(status, 200, "{body}");
    body
}

/// Names the connector and account that rotating `path` changes.
pub fn put_target(server: &TestServer, path: &str, connector: &str, account: &str) {
    let (status, body) = server.call(
        "PUT",
        &format!("/v1/vault/targets/{path}"),
        Some(json!({"connector": connector, "account": account})),
    );
    assert_eq!(status, 200, "{body}");
}
