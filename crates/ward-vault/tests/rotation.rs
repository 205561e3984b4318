//! Secret rotation: staged values, promotion with a grace window, discard,
//! and the list of due rotations.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use common::Env;
use serde_json::json;
use time::Duration;
use ward_vault::VaultError;
use ward_vault::kv::{self, ReadResult, RotationPolicy};
use ward_vault::rotation;

#[tokio::test]
async fn promote_makes_new_version_and_starts_grace() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    let t0 = env.now();
    kv::write(
        &mut conn,
        &barrier,
        "db/finance",
        &json!({"pw": "fake-old"}),
        None,
        t0,
    )
    .await
    .unwrap();
    kv::set_rotation_policy(
        &mut conn,
        "db/finance",
        RotationPolicy {
            interval: Some(Duration::days(30)),
            grace: Duration::hours(1),
        },
    )
    .await
    .unwrap();

    let staged = rotation::stage(
        &mut conn,
        &barrier,
        "db/finance",
        &json!({"pw": "fake-new"}),
        t0,
    )
    .await
    .unwrap();
    // Staged values are invisible to readers.
    let ReadResult::Value { meta, .. } = kv::read(&mut conn, &barrier, "db/finance", None, t0)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(meta.version, 1);
    assert_eq!(
        rotation::pending_value(&mut conn, &barrier, "db/finance", &staged.id)
            .await
            .unwrap()
            .as_json(),
        r#"{"pw":"fake-new"}"#
    );

    let promoted = rotation::promote(&mut conn, &barrier, "db/finance", &staged.id, t0)
        .await
        .unwrap();
    assert_eq!(promoted.version, 2);
    let ReadResult::Value { value, .. } = kv::read(&mut conn, &barrier, "db/finance", None, t0)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(value.as_json(), r#"{"pw":"fake-new"}"#);

    // The old version reads during the grace window and not after.
    let in_grace = t0 + Duration::minutes(59);
    assert!(matches!(
        kv::read(&mut conn, &barrier, "db/finance", Some(1), in_grace)
            .await
            .unwrap(),
        ReadResult::Value { .. }
    ));
    let after = t0 + Duration::minutes(61);
    assert!(matches!(
        kv::read(&mut conn, &barrier, "db/finance", Some(1), after)
            .await
            .unwrap(),
        ReadResult::Deleted { .. }
    ));

    let metadata = kv::read_metadata(&mut conn, "db/finance")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(metadata.last_rotated, Some(t0));
    assert!(
        rotation::list_pending(&mut conn, "db/finance")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn discard_keeps_every_version() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    kv::write(
        &mut conn,
        &barrier,
        "k",
        &json!({"pw": "fake-1"}),
        None,
        env.now(),
    )
    .await
    .unwrap();
    let staged = rotation::stage(
        &mut conn,
        &barrier,
        "k",
        &json!({"pw": "fake-2"}),
        env.now(),
    )
    .await
    .unwrap();
    assert_eq!(
        rotation::list_pending(&mut conn, "k").await.unwrap().len(),
        1
    );
    rotation::discard(&mut conn, "k", &staged.id).await.unwrap();
    let metadata = kv::read_metadata(&mut conn, "k").await.unwrap().unwrap();
    assert_eq!(metadata.current_version, 1);
    assert_eq!(metadata.last_rotated, None);
    assert!(matches!(
        rotation::discard(&mut conn, "k", &staged.id).await,
        Err(VaultError::PendingNotFound { .. })
    ));
    assert!(matches!(
        rotation::promote(&mut conn, &barrier, "k", &staged.id, env.now()).await,
        Err(VaultError::PendingNotFound { .. })
    ));
}

#[tokio::test]
async fn writes_between_stage_and_promote_are_kept() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    kv::write(&mut conn, &barrier, "k", &json!({"v": 1}), None, env.now())
        .await
        .unwrap();
    let staged = rotation::stage(&mut conn, &barrier, "k", &json!({"v": 3}), env.now())
        .await
        .unwrap();
    kv::write(&mut conn, &barrier, "k", &json!({"v": 2}), None, env.now())
        .await
        .unwrap();
    let promoted = rotation::promote(&mut conn, &barrier, "k", &staged.id, env.now())
        .await
        .unwrap();
    assert_eq!(promoted.version, 3);
    let metadata = kv::read_metadata(&mut conn, "k").await.unwrap().unwrap();
    assert_eq!(metadata.versions.len(), 3);
}

#[tokio::test]
async fn stage_requires_existing_key() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    assert!(matches!(
        rotation::stage(&mut conn, &barrier, "nope", &json!({"v": 1}), env.now()).await,
        Err(VaultError::KeyNotFound(_))
    ));
}

#[tokio::test]
async fn due_lists_overdue_keys() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    let t0 = env.now();
    for path in ["a", "b", "c"] {
        kv::write(&mut conn, &barrier, path, &json!({"v": 1}), None, t0)
            .await
            .unwrap();
    }
    kv::set_rotation_policy(
        &mut conn,
        "a",
        RotationPolicy {
            interval: Some(Duration::days(1)),
            grace: Duration::ZERO,
        },
    )
    .await
    .unwrap();
    kv::set_rotation_policy(
        &mut conn,
        "b",
        RotationPolicy {
            interval: Some(Duration::days(7)),
            grace: Duration::ZERO,
        },
    )
    .await
    .unwrap();
    assert!(
        rotation::due(&mut conn, t0 + Duration::hours(23), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let due = rotation::due(&mut conn, t0 + Duration::days(2), 10)
        .await
        .unwrap();
    assert_eq!(
        due.iter().map(|d| d.path.as_str()).collect::<Vec<_>>(),
        vec!["a"]
    );

    let staged = rotation::stage(
        &mut conn,
        &barrier,
        "a",
        &json!({"v": 2}),
        t0 + Duration::days(2),
    )
    .await
    .unwrap();
    rotation::promote(&mut conn, &barrier, "a", &staged.id, t0 + Duration::days(2))
        .await
        .unwrap();
    assert!(
        rotation::due(&mut conn, t0 + Duration::days(2), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let later = rotation::due(&mut conn, t0 + Duration::days(8), 10)
        .await
        .unwrap();
    assert_eq!(
        later.iter().map(|d| d.path.as_str()).collect::<Vec<_>>(),
        vec!["a", "b"],
        "a was due on day 3, b on day 7"
    );
}

#[tokio::test]
async fn owners_are_recorded() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    kv::write(&mut conn, &barrier, "k", &json!({"v": 1}), None, env.now())
        .await
        .unwrap();
    let owners = vec!["bot_aaaaaaaaaaaaaaaaaaaaaaaaaa".to_string()];
    kv::set_owners(&mut conn, "k", &owners).await.unwrap();
    assert_eq!(
        kv::read_metadata(&mut conn, "k")
            .await
            .unwrap()
            .unwrap()
            .owners,
        owners
    );
    assert!(matches!(
        kv::set_owners(&mut conn, "nope", &owners).await,
        Err(VaultError::KeyNotFound(_))
    ));
}
