//! Seal state machine, Shamir unseal, restarts and key rotations.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use common::{Env, contains, unseal_all};
use secrecy::ExposeSecret;
use serde_json::json;
use ward_vault::kv::{self, ReadResult};
use ward_vault::rewrap::rewrap_batch;
use ward_vault::{Barrier, VaultError};

#[tokio::test]
async fn uninitialized_status_and_refusals() {
    let env = Env::new().await;
    let mut conn = env.conn().await;
    let barrier = Barrier::load(&mut conn).await.unwrap();
    let status = barrier.status();
    assert!(!status.initialized);
    assert!(status.sealed);
    assert_eq!((status.threshold, status.shares), (0, 0));
    assert!(matches!(
        barrier.unseal("00"),
        Err(VaultError::NotInitialized)
    ));
    assert!(matches!(barrier.keyring(), Err(VaultError::Sealed)));
}

#[tokio::test]
async fn init_returns_shares_once_and_stays_sealed() {
    let env = Env::new().await;
    let (barrier, output) = env.init(5, 3).await;
    assert_eq!(output.keys.len(), 5);
    assert_eq!(output.keys_base64.len(), 5);
    assert!(output.root_token.expose_secret().starts_with("hvs."));
    let status = barrier.status();
    assert!(status.initialized);
    assert!(status.sealed);
    assert_eq!(
        (status.threshold, status.shares, status.progress),
        (3, 5, 0)
    );
    assert!(matches!(
        barrier.prepare_init(5, 3, env.now()),
        Err(VaultError::AlreadyInitialized)
    ));

    // Neither the shares nor the root token reach the database.
    let bytes = env.database_bytes();
    for share in &output.keys {
        assert!(!contains(&bytes, share.expose_secret().as_bytes()));
        assert!(!contains(
            &bytes,
            &hex::decode(share.expose_secret()).unwrap()
        ));
    }
    assert!(!contains(
        &bytes,
        output.root_token.expose_secret().as_bytes()
    ));
}

#[tokio::test]
async fn unseal_with_threshold_shares_mixing_hex_and_base64() {
    let env = Env::new().await;
    let (barrier, output) = env.init(5, 3).await;
    let first = barrier.unseal(output.keys[4].expose_secret()).unwrap();
    assert_eq!(first.progress, 1);
    assert!(!first.nonce.is_empty());
    let second = barrier
        .unseal(output.keys_base64[1].expose_secret())
        .unwrap();
    assert_eq!(second.progress, 2);
    assert_eq!(second.nonce, first.nonce);
    let done = barrier.unseal(output.keys[2].expose_secret()).unwrap();
    assert!(!done.sealed);
    assert_eq!(done.progress, 0);
    assert_eq!(done.nonce, "");
    // Unsealing again returns the status.
    assert!(
        !barrier
            .unseal(output.keys[0].expose_secret())
            .unwrap()
            .sealed
    );
}

#[tokio::test]
async fn repeated_share_does_not_count_twice() {
    let env = Env::new().await;
    let (barrier, output) = env.init(5, 3).await;
    barrier.unseal(output.keys[0].expose_secret()).unwrap();
    let again = barrier
        .unseal(output.keys_base64[0].expose_secret())
        .unwrap();
    assert_eq!(again.progress, 1);
    assert!(again.sealed);
}

#[tokio::test]
async fn wrong_shares_fail_and_reset_progress() {
    let env = Env::new().await;
    let (barrier, output) = env.init(3, 2).await;
    let (_, other) = Env::new().await.init(3, 2).await;
    barrier.unseal(output.keys[0].expose_secret()).unwrap();
    let err = barrier.unseal(other.keys[1].expose_secret()).unwrap_err();
    assert!(matches!(err, VaultError::UnsealFailed));
    assert_eq!(err.to_string(), "unseal failed, invalid key");
    let status = barrier.status();
    assert!(status.sealed);
    assert_eq!(status.progress, 0);
    assert_eq!(status.nonce, "");
    // The right shares still work afterwards.
    unseal_all(&barrier, &output, &[1, 2]);
    assert!(!barrier.is_sealed());
}

#[tokio::test]
async fn malformed_share_rejected_with_vault_text() {
    let env = Env::new().await;
    let (barrier, _) = env.init(3, 2).await;
    for bad in ["", "xyz", "abcd", "%%%"] {
        let err = barrier.unseal(bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            "'key' must be a valid hex or base64 string"
        );
    }
    assert_eq!(barrier.status().progress, 0);
}

#[tokio::test]
async fn reset_clears_progress() {
    let env = Env::new().await;
    let (barrier, output) = env.init(3, 2).await;
    barrier.unseal(output.keys[0].expose_secret()).unwrap();
    assert_eq!(barrier.reset_unseal().unwrap().progress, 0);
    unseal_all(&barrier, &output, &[1, 2]);
    assert!(matches!(
        barrier.reset_unseal(),
        Err(VaultError::AlreadyUnsealed)
    ));
}

#[tokio::test]
async fn seal_drops_keys_and_restart_starts_sealed() {
    let env = Env::new().await;
    let (barrier, output) = env.init(5, 3).await;
    unseal_all(&barrier, &output, &[0, 1, 2]);
    let mut conn = env.conn().await;
    kv::write(
        &mut conn,
        &barrier,
        "bots/invoice",
        &json!({"pw": "fake-pw-1"}),
        None,
        env.now(),
    )
    .await
    .unwrap();

    barrier.seal();
    assert!(barrier.is_sealed());
    let err = kv::read(&mut conn, &barrier, "bots/invoice", None, env.now())
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::Sealed));

    // A new process loads the same database: sealed, and the shares open it.
    let restarted = Barrier::load(&mut conn).await.unwrap();
    assert!(restarted.status().initialized);
    assert!(restarted.is_sealed());
    unseal_all(&restarted, &output, &[3, 4, 0]);
    let ReadResult::Value { value, .. } =
        kv::read(&mut conn, &restarted, "bots/invoice", None, env.now())
            .await
            .unwrap()
    else {
        panic!("expected a value");
    };
    assert_eq!(value.as_json(), r#"{"pw":"fake-pw-1"}"#);
}

#[tokio::test]
async fn root_key_rotation_keeps_shares_and_data() {
    let env = Env::new().await;
    let (barrier, output) = env.init(3, 2).await;
    unseal_all(&barrier, &output, &[0, 1]);
    let mut conn = env.conn().await;
    kv::write(
        &mut conn,
        &barrier,
        "a",
        &json!({"k": "v1"}),
        None,
        env.now(),
    )
    .await
    .unwrap();
    let before: Vec<u8> = sqlx::query_scalar("SELECT keyring_ciphertext FROM vault_seal")
        .fetch_one(&mut *conn)
        .await
        .unwrap();

    let change = barrier.prepare_root_key_rotation().unwrap();
    change.persist(&mut conn, env.now()).await.unwrap();
    barrier.apply(change).unwrap();
    let after: Vec<u8> = sqlx::query_scalar("SELECT keyring_ciphertext FROM vault_seal")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_ne!(before, after);

    // Served without downtime, and a restart unseals with the old shares.
    assert!(matches!(
        kv::read(&mut conn, &barrier, "a", None, env.now())
            .await
            .unwrap(),
        ReadResult::Value { .. }
    ));
    let restarted = Barrier::load(&mut conn).await.unwrap();
    unseal_all(&restarted, &output, &[2, 0]);
    assert!(matches!(
        kv::read(&mut conn, &restarted, "a", None, env.now())
            .await
            .unwrap(),
        ReadResult::Value { .. }
    ));
}

#[tokio::test]
async fn stale_rotation_is_rejected() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    let first = barrier.prepare_data_key_rotation(env.now()).unwrap();
    let second = barrier.prepare_data_key_rotation(env.now()).unwrap();
    first.persist(&mut conn, env.now()).await.unwrap();
    barrier.apply(first).unwrap();
    assert!(matches!(
        second.persist(&mut conn, env.now()).await,
        Err(VaultError::KeyringChanged)
    ));
    assert!(matches!(
        barrier.apply(second),
        Err(VaultError::KeyringChanged)
    ));
}

#[tokio::test]
async fn data_key_rotation_then_rewrap_in_batches() {
    let env = Env::new().await;
    let (barrier, output) = env.unsealed().await;
    let mut conn = env.conn().await;
    for index in 0..7 {
        let path = format!("apps/s{index}");
        kv::write(
            &mut conn,
            &barrier,
            &path,
            &json!({"n": index}),
            None,
            env.now(),
        )
        .await
        .unwrap();
    }

    let change = barrier.prepare_data_key_rotation(env.now()).unwrap();
    assert_eq!(change.active_term(), 2);
    change.persist(&mut conn, env.now()).await.unwrap();
    barrier.apply(change).unwrap();

    // Old term still decrypts; new writes use term 2.
    assert!(matches!(
        kv::read(&mut conn, &barrier, "apps/s0", None, env.now())
            .await
            .unwrap(),
        ReadResult::Value { .. }
    ));
    kv::write(
        &mut conn,
        &barrier,
        "apps/new",
        &json!({"n": 99}),
        None,
        env.now(),
    )
    .await
    .unwrap();
    let new_term: i64 =
        sqlx::query_scalar("SELECT key_term FROM vault_kv_versions WHERE path = 'apps/new'")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
    assert_eq!(new_term, 2);

    let first = rewrap_batch(&mut conn, &barrier, 3).await.unwrap();
    assert_eq!((first.rewrapped, first.remaining), (3, 4));
    let second = rewrap_batch(&mut conn, &barrier, 3).await.unwrap();
    assert_eq!((second.rewrapped, second.remaining), (3, 1));
    let last = rewrap_batch(&mut conn, &barrier, 3).await.unwrap();
    assert_eq!((last.rewrapped, last.remaining), (1, 0));
    let old: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM vault_kv_versions WHERE key_term <> 2")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(old, 0);

    // After a restart the rotated keyring is what unseals.
    let restarted = Barrier::load(&mut conn).await.unwrap();
    unseal_all(&restarted, &output, &[0]);
    assert_eq!(restarted.keyring().unwrap().active_term(), 2);
    for index in 0..7 {
        let path = format!("apps/s{index}");
        let ReadResult::Value { value, .. } =
            kv::read(&mut conn, &restarted, &path, None, env.now())
                .await
                .unwrap()
        else {
            panic!("expected a value for {path}");
        };
        assert_eq!(value.as_json(), format!(r#"{{"n":{index}}}"#));
    }
}

#[tokio::test]
async fn init_config_errors_use_vault_text() {
    let barrier = Barrier::uninitialized();
    let now = time::OffsetDateTime::now_utc();
    let cases = [
        (3, 5, "threshold cannot be larger than shares"),
        (
            4,
            1,
            "threshold must be greater than one for multiple shares",
        ),
    ];
    for (shares, threshold, text) in cases {
        let err = barrier.prepare_init(shares, threshold, now).err().unwrap();
        assert!(err.to_string().contains(text), "{err}");
    }
}
