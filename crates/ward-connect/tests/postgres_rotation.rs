//! Rotation of PostgreSQL login roles against a real server.
//!
//! The server named by WARD_TEST_POSTGRES_URL may trust loopback connections
//! (the CI server does), and then PostgreSQL accepts any password at login.
//! These tests therefore judge a password by `PgAdmin::check_password`,
//! which logs in and also compares the role's stored SCRAM verifier, the same
//! comparison a password-checking server makes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod common;

use secrecy::SecretString;
use ward_connect::{
    Connector, ConnectorError, PasswordPolicy, PostgresConfig, PostgresConnector, Verification,
};

use common::*;

fn connector(url: &str) -> PostgresConnector {
    PostgresConfig {
        admin_url: SecretString::from(url.to_string()),
        connect_timeout_ms: 5_000,
        verify_database: None,
    }
    .build()
    .unwrap()
}

#[tokio::test]
async fn rotate_sets_new_password_and_old_fails() {
    let Some(url) = postgres_url() else { return };
    let role = unique("wt_rot");
    let old = PasswordPolicy::default().generate().unwrap();
    create_login_role(&url, &role, &old).await;
    let connector = connector(&url);

    let new = PasswordPolicy::default().generate().unwrap();
    let receipt = connector.rotate(&target(&role, 2), &new).await.unwrap();
    assert_eq!(receipt.account, role);
    assert_eq!(
        receipt.verification,
        Verification::Login {
            stored_verifier_checked: true
        }
    );

    let stored = stored_password(&url, &role).await.unwrap();
    assert!(
        stored.starts_with("SCRAM-SHA-256$4096:"),
        "stored: {stored}"
    );

    let session = login(&url, &role, &new).await;
    assert!(session.is_ok(), "login with the new password failed");
    let new_check = connector.verify(&target(&role, 2), &new).await;
    assert!(new_check.is_ok(), "new password rejected: {new_check:?}");
    let old_check = connector.verify(&target(&role, 1), &old).await.unwrap_err();
    assert_eq!(old_check.code(), "verify_failed");
    assert!(
        !old_check.target_may_have_changed(),
        "verify alone changes nothing"
    );
    assert!(old_check.to_string().contains(&role));

    drop_role(&url, &role).await;
}

#[tokio::test]
async fn verify_database_used_for_check_login() {
    let Some(url) = postgres_url() else { return };
    let role = unique("wt_verifydb");
    let old = PasswordPolicy::default().generate().unwrap();
    create_login_role(&url, &role, &old).await;
    let new = PasswordPolicy::default().generate().unwrap();
    let config = |database: &str| PostgresConfig {
        admin_url: SecretString::from(url.clone()),
        connect_timeout_ms: 5_000,
        verify_database: Some(database.to_string()),
    };

    // Every PostgreSQL cluster has the `postgres` database.
    let receipt = config("postgres")
        .build()
        .unwrap()
        .rotate(&target(&role, 2), &new)
        .await;
    assert!(receipt.is_ok(), "{receipt:?}");

    // A check login that cannot succeed leaves the target changed, and the
    // caller puts the previous value back.
    let missing_database = unique("wt_nodb");
    let third = PasswordPolicy::default().generate().unwrap();
    let err = config(&missing_database)
        .build()
        .unwrap()
        .rotate(&target(&role, 3), &third)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "verify_failed");
    assert!(err.target_may_have_changed());
    assert!(err.to_string().contains(&missing_database), "{err}");
    let plain = connector(&url);
    plain.rotate(&target(&role, 2), &new).await.unwrap();
    assert!(plain.verify(&target(&role, 2), &new).await.is_ok());

    drop_role(&url, &role).await;
}

#[tokio::test]
async fn rotate_same_password_twice_succeeds() {
    let Some(url) = postgres_url() else { return };
    let role = unique("wt_twice");
    create_login_role(&url, &role, &SecretString::from("initial-password-1")).await;
    let connector = connector(&url);

    let new = PasswordPolicy::default().generate().unwrap();
    connector.rotate(&target(&role, 2), &new).await.unwrap();
    connector.rotate(&target(&role, 2), &new).await.unwrap();
    assert!(connector.verify(&target(&role, 2), &new).await.is_ok());

    drop_role(&url, &role).await;
}

#[tokio::test]
async fn missing_role_named_and_nothing_changed() {
    let Some(url) = postgres_url() else { return };
    let missing = unique("wt_missing");
    // A server that checks passwords needs the URL's own; a trusting one
    // accepts any, so put a recognisable one in.
    let parsed = url::Url::parse(&url).unwrap();
    let (admin_url, admin_password) = match parsed.password() {
        Some(password) => (url.clone(), password.to_string()),
        None => (
            url_with_password(&url, "AdminUrlPassw0rd"),
            "AdminUrlPassw0rd".to_string(),
        ),
    };
    let connector = connector(&admin_url);
    let new = SecretString::from("NewPassw0rd-never-shown");

    let err = connector
        .rotate(&target(&missing, 2), &new)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ConnectorError::RoleNotFound { role, .. } if role == &missing),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&format!("role `{missing}` does not exist")),
        "{message}"
    );
    for shown in [message, format!("{err:?}")] {
        assert!(!shown.contains("NewPassw0rd"), "{shown}");
        assert!(!shown.contains(&admin_password), "{shown}");
    }
    assert!(!err.target_may_have_changed());
    assert!(!role_exists(&url, &missing).await);
}

#[tokio::test]
async fn nologin_role_rejected_and_unchanged() {
    let Some(url) = postgres_url() else { return };
    let role = unique("wt_nologin");
    let mut admin = admin_connection(&url).await;
    exec_format(
        &mut admin,
        "CREATE ROLE %I NOLOGIN PASSWORD 'unchanged-pw-1'",
        &[&role],
    )
    .await;
    let before = stored_password(&url, &role).await;

    let err = connector(&url)
        .rotate(&target(&role, 2), &SecretString::from("ignored-password-1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "role_cannot_login");
    assert!(err.to_string().contains(&role));
    assert_eq!(stored_password(&url, &role).await, before);

    drop_role(&url, &role).await;
}

#[tokio::test]
async fn unreachable_server_error_hides_password() {
    // Port 1 on loopback refuses connections.
    let url = "postgres://ward_admin:UnreachablePw9@127.0.0.1:1/test";
    let connector = connector(url);
    let new = SecretString::from("NewPassw0rd-never-shown");
    let err = connector
        .rotate(&target("svc_any", 2), &new)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "target_unreachable");
    let shown = format!("{err} {err:?} {connector:?}");
    assert!(
        shown.contains("postgres://ward_admin@127.0.0.1:1/test"),
        "{shown}"
    );
    assert!(!shown.contains("UnreachablePw9"), "{shown}");
    assert!(!shown.contains("NewPassw0rd"), "{shown}");
}

#[tokio::test]
async fn injection_in_role_names_and_passwords_is_inert() {
    let Some(url) = postgres_url() else { return };
    let canary = unique("wt_canary");
    let superuser_before = stored_password(&url, "postgres").await;
    let base = unique("wt_inj");
    let roles = [
        format!("{base}'; DROP ROLE postgres; --"),
        format!("{base}\"; CREATE ROLE {canary}; --"),
        format!("{base} with space;"),
        format!("{base}$$;\\"),
    ];
    let passwords = [
        "p'; ALTER ROLE postgres PASSWORD 'owned'; --".to_string(),
        format!("p\"; CREATE ROLE {canary}; --"),
        "p$$ || pg_sleep(5) || $$".to_string(),
        "p\\'; SELECT 1; --".to_string(),
    ];
    let connector = connector(&url);

    for (role, password) in roles.iter().zip(&passwords) {
        create_login_role(&url, role, &SecretString::from("initial-password-1")).await;
        let password = SecretString::from(password.clone());
        let receipt = connector.rotate(&target(role, 2), &password).await;
        assert!(receipt.is_ok(), "rotation of {role:?} failed: {receipt:?}");
        let check = connector.verify(&target(role, 2), &password).await;
        assert!(
            check.is_ok(),
            "password for {role:?} not set as given: {check:?}"
        );
        assert!(role_exists(&url, role).await);
    }

    assert!(
        !role_exists(&url, &canary).await,
        "an injected CREATE ROLE ran"
    );
    assert!(role_exists(&url, "postgres").await);
    assert_eq!(stored_password(&url, "postgres").await, superuser_before);
    for role in &roles {
        drop_role(&url, role).await;
    }
}

#[tokio::test]
async fn role_name_longer_than_postgres_keeps_rejected() {
    let long = "r".repeat(64);
    let err = connector("postgres://postgres@127.0.0.1:1/test")
        .rotate(&target(&long, 2), &SecretString::from("pw-never-sent-1"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    assert!(err.to_string().contains("63"), "{err}");
}
