//! Dynamic PostgreSQL credentials against a real server: issue, log in,
//! revoke, reap.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod common;

use secrecy::SecretString;
use time::Duration;
use ward_connect::{
    DynamicPostgres, DynamicPostgresConfig, LeaseRequest, PasswordPolicy, RevokeOutcome,
};
use ward_core::id::BotId;
use ward_core::{Clock, ManualClock};

use common::*;

/// Builds an issuer with a role prefix unique to the test, so tests can run in
/// parallel and count their own roles.
fn issuer(url: &str, grants: Vec<String>) -> (DynamicPostgres, String) {
    let prefix = unique("wd").replace('_', "");
    let config = DynamicPostgresConfig {
        admin_url: SecretString::from(url.to_string()),
        role_prefix: prefix.clone(),
        default_ttl: "1h".to_string(),
        max_ttl: "24h".to_string(),
        grants,
        password: PasswordPolicy::default(),
        connect_timeout_ms: 5_000,
    };
    (config.build().unwrap(), prefix)
}

fn request(bot_name: &str, ttl: Option<Duration>) -> LeaseRequest {
    LeaseRequest {
        bot: BotId::generate(),
        bot_name: bot_name.to_string(),
        ttl,
    }
}

async fn roles_with_prefix(url: &str, prefix: &str) -> i64 {
    let mut connection = admin_connection(url).await;
    sqlx::query_scalar("SELECT count(*) FROM pg_roles WHERE starts_with(rolname, $1)")
        .bind(format!("{prefix}_"))
        .fetch_one(&mut connection)
        .await
        .unwrap()
}

#[tokio::test]
async fn issue_login_and_revoke() {
    let Some(url) = postgres_url() else { return };
    let table = unique("wt_orders");
    let mut admin = admin_connection(&url).await;
    exec_format(&mut admin, "CREATE TABLE %I (id int)", &[&table]).await;
    exec_format(&mut admin, "INSERT INTO %I VALUES (7)", &[&table]).await;
    let grant = format!("GRANT SELECT ON TABLE public.\"{table}\" TO {{{{name}}}}");
    let (issuer, prefix) = issuer(&url, vec![grant]);
    let clock = ManualClock::new();
    let now = clock.now();

    let credential = issuer
        .issue(
            &request(
                "Invoice Bot'; DROP ROLE postgres; --",
                Some(Duration::minutes(30)),
            ),
            now,
        )
        .await
        .unwrap();
    let lease = &credential.lease;
    assert!(lease.id.as_str().starts_with("lse_"));
    assert_eq!(lease.username, credential.username);
    assert!(
        credential
            .username
            .starts_with(&format!("{prefix}_invoice_bot_drop_role_po_")),
        "{}",
        credential.username
    );
    assert_eq!(lease.expires_at, now + Duration::minutes(30));
    assert!(
        !format!("{credential:?}")
            .contains(secrecy::ExposeSecret::expose_secret(&credential.password))
    );

    let valid_until: i64 = sqlx::query_scalar(
        "SELECT floor(extract(epoch FROM rolvaliduntil))::bigint FROM pg_roles WHERE rolname = $1",
    )
    .bind(&credential.username)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(valid_until, lease.expires_at.unix_timestamp());
    let check = issuer
        .admin()
        .check_password(&credential.username, &credential.password)
        .await;
    assert!(
        check.is_ok(),
        "issued password does not authenticate: {check:?}"
    );

    let mut session = login(&url, &credential.username, &credential.password)
        .await
        .unwrap();
    let read: i32 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT id FROM \"{table}\"")))
        .fetch_one(&mut session)
        .await
        .unwrap();
    assert_eq!(read, 7, "the grant template did not apply");
    let write = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO \"{table}\" VALUES (8)"
    )))
    .execute(&mut session)
    .await;
    assert!(
        write.is_err(),
        "the role can write, but only SELECT was granted"
    );

    let outcome = issuer.revoke(&credential.username).await.unwrap();
    // At least the open session; a closed check session may still be exiting.
    assert!(
        matches!(outcome, RevokeOutcome::Dropped { sessions_terminated } if sessions_terminated >= 1),
        "{outcome:?}"
    );
    let after = sqlx::query("SELECT 1").execute(&mut session).await;
    assert!(after.is_err(), "the open session survived the revoke");
    assert!(!role_exists(&url, &credential.username).await);
    assert!(
        login(&url, &credential.username, &credential.password)
            .await
            .is_err()
    );
    assert_eq!(
        issuer.revoke(&credential.username).await.unwrap(),
        RevokeOutcome::AlreadyGone
    );

    assert!(role_exists(&url, "postgres").await);
    exec_format(&mut admin, "DROP TABLE %I", &[&table]).await;
}

#[tokio::test]
async fn revoke_drops_owned_objects() {
    let Some(url) = postgres_url() else { return };
    let (issuer, _) = issuer(
        &url,
        vec!["GRANT CREATE ON SCHEMA public TO {{name}}".to_string()],
    );
    let credential = issuer
        .issue(&request("builder", None), ManualClock::new().now())
        .await
        .unwrap();
    let table = unique("wt_owned");
    let mut session = login(&url, &credential.username, &credential.password)
        .await
        .unwrap();
    exec_format(&mut session, "CREATE TABLE %I (id int)", &[&table]).await;
    drop(session);

    // REASSIGN OWNED hands the table to the admin role, so DROP ROLE works.
    let outcome = issuer.revoke(&credential.username).await.unwrap();
    assert!(
        matches!(outcome, RevokeOutcome::Dropped { .. }),
        "{outcome:?}"
    );
    assert!(!role_exists(&url, &credential.username).await);
    let mut admin = admin_connection(&url).await;
    let owner: String =
        sqlx::query_scalar("SELECT tableowner::text FROM pg_tables WHERE tablename = $1")
            .bind(&table)
            .fetch_one(&mut admin)
            .await
            .unwrap();
    assert_eq!(owner, "postgres");
    exec_format(&mut admin, "DROP TABLE %I", &[&table]).await;
}

#[tokio::test]
async fn failing_grant_leaves_no_role() {
    let Some(url) = postgres_url() else { return };
    let missing = unique("wt_no_such_table");
    let (issuer, prefix) = issuer(
        &url,
        vec![format!(
            "GRANT SELECT ON TABLE \"{missing}\" TO {{{{name}}}}"
        )],
    );
    let err = issuer
        .issue(&request("bot", None), ManualClock::new().now())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "target_error");
    assert!(err.to_string().starts_with("grant failed"), "{err}");
    assert_eq!(roles_with_prefix(&url, &prefix).await, 0);
}

#[tokio::test]
async fn reap_revokes_only_expired_leases() {
    let Some(url) = postgres_url() else { return };
    let (issuer, prefix) = issuer(&url, Vec::new());
    let clock = ManualClock::new();
    let short = issuer
        .issue(&request("short", Some(Duration::minutes(1))), clock.now())
        .await
        .unwrap();
    let long = issuer
        .issue(&request("long", Some(Duration::hours(1))), clock.now())
        .await
        .unwrap();
    let leases = [short.lease.clone(), long.lease.clone()];

    let early = issuer.reap_expired(clock.now(), &leases).await;
    assert!(early.revoked.is_empty());
    assert!(early.failed.is_empty());
    assert_eq!(roles_with_prefix(&url, &prefix).await, 2);

    clock.advance(Duration::minutes(2));
    let report = issuer.reap_expired(clock.now(), &leases).await;
    assert_eq!(report.revoked, vec![short.lease.id.clone()]);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    assert!(!role_exists(&url, &short.username).await);
    assert!(role_exists(&url, &long.username).await);

    issuer.revoke(&long.username).await.unwrap();
    assert_eq!(roles_with_prefix(&url, &prefix).await, 0);
}

#[tokio::test]
async fn renew_moves_valid_until_within_max_ttl() {
    let Some(url) = postgres_url() else { return };
    let (issuer, _) = issuer(&url, Vec::new());
    let clock = ManualClock::new();
    let credential = issuer
        .issue(&request("renewer", Some(Duration::hours(1))), clock.now())
        .await
        .unwrap();

    clock.advance(Duration::minutes(50));
    let now = clock.now();
    let renewed = issuer
        .renew(&credential.lease, Duration::hours(2), now)
        .await
        .unwrap();
    assert_eq!(renewed.expires_at, now + Duration::hours(2));
    assert_eq!(renewed.id, credential.lease.id);
    let mut admin = admin_connection(&url).await;
    let valid_until: i64 = sqlx::query_scalar(
        "SELECT floor(extract(epoch FROM rolvaliduntil))::bigint FROM pg_roles WHERE rolname = $1",
    )
    .bind(&credential.username)
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!(valid_until, renewed.expires_at.unix_timestamp());

    let err = issuer
        .renew(&renewed, Duration::hours(24), now)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ttl_too_long");
    issuer.revoke(&credential.username).await.unwrap();
}

#[tokio::test]
async fn ttl_longer_than_max_creates_nothing() {
    let Some(url) = postgres_url() else { return };
    let (issuer, prefix) = issuer(&url, Vec::new());
    let err = issuer
        .issue(
            &request("greedy", Some(Duration::hours(25))),
            ManualClock::new().now(),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ttl_too_long");
    assert!(err.to_string().contains("86400"), "{err}");
    assert_eq!(roles_with_prefix(&url, &prefix).await, 0);
}
