//! Record binding: a ciphertext moved to another row fails to decrypt, and
//! no plaintext reaches the database.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use common::{Env, contains};
use serde_json::json;
use ward_vault::kv::{self, ReadResult};
use ward_vault::rotation;
use ward_vault::{RecordId, VaultError};

#[tokio::test]
async fn ciphertext_moved_to_other_path_fails() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    kv::write(
        &mut conn,
        &barrier,
        "bots/a",
        &json!({"pw": "fake-a"}),
        None,
        env.now(),
    )
    .await
    .unwrap();
    kv::write(
        &mut conn,
        &barrier,
        "bots/b",
        &json!({"pw": "fake-b"}),
        None,
        env.now(),
    )
    .await
    .unwrap();

    sqlx::query(
        "UPDATE vault_kv_versions SET ciphertext = (SELECT ciphertext FROM vault_kv_versions WHERE path = 'bots/a') \
         WHERE path = 'bots/b'",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    let err = kv::read(&mut conn, &barrier, "bots/b", None, env.now())
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::Corrupt { .. }), "{err}");
    assert!(!err.to_string().contains("fake-a"));
    // The source row still reads.
    assert!(matches!(
        kv::read(&mut conn, &barrier, "bots/a", None, env.now())
            .await
            .unwrap(),
        ReadResult::Value { .. }
    ));
}

#[tokio::test]
async fn ciphertext_moved_to_other_version_fails() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    kv::write(&mut conn, &barrier, "k", &json!({"v": 1}), None, env.now())
        .await
        .unwrap();
    kv::write(&mut conn, &barrier, "k", &json!({"v": 2}), None, env.now())
        .await
        .unwrap();
    sqlx::query(
        "UPDATE vault_kv_versions SET ciphertext = (SELECT ciphertext FROM vault_kv_versions WHERE path = 'k' AND version = 1) \
         WHERE path = 'k' AND version = 2",
    )
    .execute(&mut *conn)
    .await
    .unwrap();
    assert!(matches!(
        kv::read(&mut conn, &barrier, "k", Some(2), env.now()).await,
        Err(VaultError::Corrupt { .. })
    ));
    assert!(matches!(
        kv::read(&mut conn, &barrier, "k", Some(1), env.now())
            .await
            .unwrap(),
        ReadResult::Value { .. }
    ));
}

#[tokio::test]
async fn relabelled_term_fails() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    kv::write(&mut conn, &barrier, "k", &json!({"v": 1}), None, env.now())
        .await
        .unwrap();
    let change = barrier.prepare_data_key_rotation(env.now()).unwrap();
    change.persist(&mut conn, env.now()).await.unwrap();
    barrier.apply(change).unwrap();
    sqlx::query("UPDATE vault_kv_versions SET key_term = 2")
        .execute(&mut *conn)
        .await
        .unwrap();
    assert!(matches!(
        kv::read(&mut conn, &barrier, "k", None, env.now()).await,
        Err(VaultError::Corrupt { .. })
    ));
}

#[tokio::test]
async fn pending_value_moved_to_other_key_fails() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    kv::write(&mut conn, &barrier, "a", &json!({"v": 1}), None, env.now())
        .await
        .unwrap();
    kv::write(&mut conn, &barrier, "b", &json!({"v": 1}), None, env.now())
        .await
        .unwrap();
    let staged = rotation::stage(&mut conn, &barrier, "a", &json!({"v": 2}), env.now())
        .await
        .unwrap();
    sqlx::query("UPDATE vault_kv_pending SET path = 'b'")
        .execute(&mut *conn)
        .await
        .unwrap();
    assert!(matches!(
        rotation::promote(&mut conn, &barrier, "b", &staged.id, env.now()).await,
        Err(VaultError::Corrupt { .. })
    ));
}

#[tokio::test]
async fn sealed_barrier_refuses_crypto() {
    let env = Env::new().await;
    let (barrier, _) = env.init(3, 2).await;
    let record = RecordId {
        table: "t",
        key: "k",
        version: 1,
    };
    assert!(matches!(
        barrier.encrypt(&record, b"x"),
        Err(VaultError::Sealed)
    ));
    assert!(matches!(
        barrier.decrypt(&record, 1, b"x"),
        Err(VaultError::Sealed)
    ));
    assert!(matches!(
        barrier.keyed_hash("token", b"x"),
        Err(VaultError::Sealed)
    ));
}

#[tokio::test]
async fn database_holds_no_plaintext() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    let canary = "CANARY-7f3d9a-fake-password";
    kv::write(
        &mut conn,
        &barrier,
        "bots/canary",
        &json!({"pw": canary}),
        None,
        env.now(),
    )
    .await
    .unwrap();
    kv::patch(
        &mut conn,
        &barrier,
        "bots/canary",
        &json!({"user": "fake"}),
        None,
        env.now(),
    )
    .await
    .unwrap();
    rotation::stage(
        &mut conn,
        &barrier,
        "bots/canary",
        &json!({"pw": canary}),
        env.now(),
    )
    .await
    .unwrap();
    sqlx::raw_sql("PRAGMA wal_checkpoint(FULL)")
        .execute(&mut *conn)
        .await
        .unwrap();
    assert!(!contains(&env.database_bytes(), canary.as_bytes()));
}
