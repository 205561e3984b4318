//! Helpers shared by the integration tests that need PostgreSQL.

#![allow(dead_code, reason = "each test binary uses a different subset")]

use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use time::OffsetDateTime;
use ward_connect::{RotationId, TargetSpec};

/// Environment variable naming the test server, such as
/// `postgres://postgres@127.0.0.1:5432/test`.
pub const URL_VAR: &str = "WARD_TEST_POSTGRES_URL";

/// Returns the test server's URL, or `None` after printing a SKIPPED line.
pub fn postgres_url() -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            // Written to the stderr handle, not with eprintln!, so the test
            // harness does not capture the line and it shows in every run.
            let line = format!("SKIPPED: {URL_VAR} not set\n");
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
            None
        }
    }
}

/// Returns a name unique to this test run, such as `wt_k3f9a2x1q0`.
pub fn unique(prefix: &str) -> String {
    let suffix: String = (0..10)
        .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rand::random_range(0..36)]))
        .collect();
    format!("{prefix}_{suffix}")
}

/// Returns the admin URL with `password` put into it. The test server trusts
/// loopback connections, so the password only has to stay out of messages.
pub fn url_with_password(url: &str, password: &str) -> String {
    let mut parsed = url::Url::parse(url).unwrap();
    parsed.set_password(Some(password)).unwrap();
    parsed.to_string()
}

/// Opens a connection with the test server's own credentials.
pub async fn admin_connection(url: &str) -> PgConnection {
    let options = PgConnectOptions::from_str(url)
        .unwrap()
        .disable_statement_logging();
    PgConnection::connect_with(&options).await.unwrap()
}

/// Opens a session as `role` with `password`.
pub async fn login(
    url: &str,
    role: &str,
    password: &SecretString,
) -> Result<PgConnection, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)
        .unwrap()
        .username(role)
        .password(password.expose_secret())
        .disable_statement_logging();
    PgConnection::connect_with(&options).await
}

/// Runs a statement built by the server's `format`, with values quoted there.
pub async fn exec_format(connection: &mut PgConnection, template: &str, args: &[&str]) {
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_string()).collect();
    let statement: String = sqlx::query_scalar("SELECT format($1::text, VARIADIC $2::text[])")
        .bind(template)
        .bind(args)
        .fetch_one(&mut *connection)
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(statement))
        .persistent(false)
        .execute(&mut *connection)
        .await
        .unwrap();
}

/// Creates a login role with a password, hashed by the server.
pub async fn create_login_role(url: &str, role: &str, password: &SecretString) {
    let mut connection = admin_connection(url).await;
    exec_format(
        &mut connection,
        "CREATE ROLE %I LOGIN PASSWORD %L",
        &[role, password.expose_secret()],
    )
    .await;
}

/// Drops a role if it exists.
pub async fn drop_role(url: &str, role: &str) {
    let mut connection = admin_connection(url).await;
    exec_format(&mut connection, "DROP ROLE IF EXISTS %I", &[role]).await;
}

/// Reads a role's stored password verifier.
pub async fn stored_password(url: &str, role: &str) -> Option<String> {
    let mut connection = admin_connection(url).await;
    sqlx::query_scalar::<_, Option<String>>("SELECT rolpassword FROM pg_authid WHERE rolname = $1")
        .bind(role)
        .fetch_optional(&mut connection)
        .await
        .unwrap()
        .flatten()
}

/// Reports whether a role exists.
pub async fn role_exists(url: &str, role: &str) -> bool {
    let mut connection = admin_connection(url).await;
    sqlx::query_scalar::<_, i64>("SELECT count(*) FROM pg_roles WHERE rolname = $1")
        .bind(role)
        .fetch_one(&mut connection)
        .await
        .unwrap()
        == 1
}

/// Builds a rotation target for `account`.
pub fn target(account: &str, version: u64) -> TargetSpec {
    TargetSpec {
        rotation_id: RotationId::generate(),
        secret_path: format!("bots/test/{account}"),
        version,
        account: account.to_string(),
        requested_at: OffsetDateTime::now_utc(),
    }
}
