//! KV version 2 behaviour, including the deleted-versus-destroyed reads and
//! the listing rules clients depend on.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use std::collections::BTreeMap;

use common::Env;
use serde_json::json;
use time::Duration;
use ward_vault::VaultError;
use ward_vault::kv::{self, MetadataUpdate, MountConfig, PatchResult, ReadResult};

fn value_of(result: ReadResult) -> String {
    match result {
        ReadResult::Value { value, .. } => value.as_json().to_string(),
        other => panic!("expected a value, got {other:?}"),
    }
}

#[tokio::test]
async fn deleted_then_destroyed_latest_version() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    kv::write(
        &mut conn,
        &barrier,
        "bots/invoice",
        &json!({"pw": "fake-v1"}),
        None,
        env.now(),
    )
    .await
    .unwrap();
    kv::write(
        &mut conn,
        &barrier,
        "bots/invoice",
        &json!({"pw": "fake-v2"}),
        None,
        env.now(),
    )
    .await
    .unwrap();
    assert_eq!(
        kv::delete_latest(&mut conn, "bots/invoice", env.now())
            .await
            .unwrap(),
        Some(2)
    );
    env.clock.advance(Duration::milliseconds(5));

    // Step A: deleted current version, no fallback to version 1.
    match kv::read(&mut conn, &barrier, "bots/invoice", None, env.now())
        .await
        .unwrap()
    {
        ReadResult::Deleted { meta, .. } => {
            assert_eq!(meta.version, 2);
            assert!(!meta.destroyed);
            assert!(meta.deletion_time.is_some());
        }
        other => panic!("expected deleted, got {other:?}"),
    }

    // Step B: destroyed; undelete does not bring it back.
    assert_eq!(
        kv::destroy_versions(&mut conn, "bots/invoice", &[2])
            .await
            .unwrap(),
        vec![2]
    );
    assert!(
        kv::undelete_versions(&mut conn, "bots/invoice", &[2], env.now())
            .await
            .unwrap()
            .is_empty()
    );
    match kv::read(&mut conn, &barrier, "bots/invoice", None, env.now())
        .await
        .unwrap()
    {
        ReadResult::Deleted { meta, .. } => {
            assert!(meta.destroyed);
            assert!(
                meta.deletion_time.is_some(),
                "destroy leaves the deletion time as it was"
            );
        }
        other => panic!("expected destroyed, got {other:?}"),
    }
    let metadata = kv::read_metadata(&mut conn, "bots/invoice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(metadata.current_version, 2);
    assert!(metadata.versions[&2].destroyed);

    // Step C: version 1 still reads.
    let v1 = kv::read(&mut conn, &barrier, "bots/invoice", Some(1), env.now())
        .await
        .unwrap();
    assert_eq!(value_of(v1), r#"{"pw":"fake-v1"}"#);

    // The destroyed value is gone from the database.
    let ciphertext: Option<Vec<u8>> = sqlx::query_scalar(
        "SELECT ciphertext FROM vault_kv_versions WHERE path = 'bots/invoice' AND version = 2",
    )
    .fetch_one(&mut *conn)
    .await
    .unwrap();
    assert!(ciphertext.is_none());
}

#[tokio::test]
async fn destroyed_never_deleted_has_no_deletion_time() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    kv::write(&mut conn, &barrier, "k", &json!({"a": 1}), None, env.now())
        .await
        .unwrap();
    kv::destroy_versions(&mut conn, "k", &[1]).await.unwrap();
    match kv::read(&mut conn, &barrier, "k", None, env.now())
        .await
        .unwrap()
    {
        ReadResult::Deleted { meta, .. } => {
            assert!(meta.destroyed);
            assert_eq!(meta.deletion_time, None);
        }
        other => panic!("expected destroyed, got {other:?}"),
    }
}

#[tokio::test]
async fn missing_key_and_unknown_version() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    assert!(matches!(
        kv::read(&mut conn, &barrier, "nope", None, env.now())
            .await
            .unwrap(),
        ReadResult::Missing
    ));
    kv::write(&mut conn, &barrier, "k", &json!({"a": 1}), None, env.now())
        .await
        .unwrap();
    assert!(matches!(
        kv::read(&mut conn, &barrier, "k", Some(2), env.now())
            .await
            .unwrap(),
        ReadResult::Missing
    ));
    // A key with metadata only has nothing to read.
    kv::write_metadata(
        &mut conn,
        "meta-only",
        &MetadataUpdate::default(),
        env.now(),
    )
    .await
    .unwrap();
    assert!(matches!(
        kv::read(&mut conn, &barrier, "meta-only", None, env.now())
            .await
            .unwrap(),
        ReadResult::Missing
    ));
}

#[tokio::test]
async fn listing_folders_and_empty_folders() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    for path in ["apps/a1/db", "apps/a2/db", "apps/top", "other"] {
        kv::write(&mut conn, &barrier, path, &json!({"x": 1}), None, env.now())
            .await
            .unwrap();
    }
    let expected = vec!["a1/".to_string(), "a2/".to_string(), "top".to_string()];
    assert_eq!(kv::list(&mut conn, "apps").await.unwrap(), expected);
    assert_eq!(kv::list(&mut conn, "apps/").await.unwrap(), expected);
    assert!(kv::list(&mut conn, "apps/empty").await.unwrap().is_empty());
    assert_eq!(
        kv::list(&mut conn, "").await.unwrap(),
        vec!["apps/".to_string(), "other".to_string()]
    );
    // A folder shown in a listing lists.
    assert_eq!(
        kv::list(&mut conn, "apps/a1/").await.unwrap(),
        vec!["db".to_string()]
    );

    assert!(kv::delete_key(&mut conn, "apps/a2/db").await.unwrap());
    assert_eq!(
        kv::list(&mut conn, "apps").await.unwrap(),
        vec!["a1/".to_string(), "top".to_string()]
    );
    assert!(kv::list(&mut conn, "apps/a2").await.unwrap().is_empty());
}

#[tokio::test]
async fn listing_keeps_destroyed_and_literal_prefix() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    kv::write(
        &mut conn,
        &barrier,
        "a_b/x",
        &json!({"x": 1}),
        None,
        env.now(),
    )
    .await
    .unwrap();
    kv::write(
        &mut conn,
        &barrier,
        "aXb/y",
        &json!({"x": 1}),
        None,
        env.now(),
    )
    .await
    .unwrap();
    kv::write(
        &mut conn,
        &barrier,
        "A_B/z",
        &json!({"x": 1}),
        None,
        env.now(),
    )
    .await
    .unwrap();
    kv::destroy_versions(&mut conn, "a_b/x", &[1])
        .await
        .unwrap();
    assert_eq!(
        kv::list(&mut conn, "a_b").await.unwrap(),
        vec!["x".to_string()]
    );
}

#[tokio::test]
async fn check_and_set_rules() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    let now = env.now();
    assert!(matches!(
        kv::write(&mut conn, &barrier, "k", &json!({"a": 1}), Some(1), now).await,
        Err(VaultError::CasMismatch)
    ));
    assert_eq!(
        kv::write(&mut conn, &barrier, "k", &json!({"a": 1}), Some(0), now)
            .await
            .unwrap()
            .version,
        1
    );
    assert!(matches!(
        kv::write(&mut conn, &barrier, "k", &json!({"a": 2}), Some(0), now).await,
        Err(VaultError::CasMismatch)
    ));
    assert_eq!(
        kv::write(&mut conn, &barrier, "k", &json!({"a": 2}), Some(1), now)
            .await
            .unwrap()
            .version,
        2
    );
    assert_eq!(
        VaultError::CasMismatch.to_string(),
        "check-and-set parameter did not match the current version"
    );

    // cas_required on the key, then on the mount.
    let update = MetadataUpdate {
        cas_required: Some(true),
        ..Default::default()
    };
    kv::write_metadata(&mut conn, "k", &update, now)
        .await
        .unwrap();
    assert!(matches!(
        kv::write(&mut conn, &barrier, "k", &json!({"a": 3}), None, now).await,
        Err(VaultError::CasRequired)
    ));
    kv::write_config(
        &mut conn,
        &MountConfig {
            cas_required: true,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(matches!(
        kv::write(&mut conn, &barrier, "fresh", &json!({"a": 1}), None, now).await,
        Err(VaultError::CasRequired)
    ));
    assert_eq!(
        kv::write(&mut conn, &barrier, "fresh", &json!({"a": 1}), Some(0), now)
            .await
            .unwrap()
            .version,
        1
    );

    // A key whose metadata was deleted counts as not existing.
    kv::write_config(&mut conn, &MountConfig::default())
        .await
        .unwrap();
    kv::delete_key(&mut conn, "k").await.unwrap();
    assert_eq!(
        kv::write(&mut conn, &barrier, "k", &json!({"a": 1}), Some(0), now)
            .await
            .unwrap()
            .version,
        1
    );
}

#[tokio::test]
async fn non_object_data_rejected() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    for data in [json!(null), json!("x"), json!([1])] {
        assert!(matches!(
            kv::write(&mut conn, &barrier, "k", &data, None, env.now()).await,
            Err(VaultError::NoData)
        ));
    }
    assert!(matches!(
        kv::write(&mut conn, &barrier, "a/../b", &json!({}), None, env.now()).await,
        Err(VaultError::InvalidPath { .. })
    ));
}

#[tokio::test]
async fn max_versions_trims_oldest() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    let update = MetadataUpdate {
        max_versions: Some(3),
        ..Default::default()
    };
    kv::write_metadata(&mut conn, "k", &update, env.now())
        .await
        .unwrap();
    for n in 1..=5 {
        kv::write(&mut conn, &barrier, "k", &json!({"n": n}), None, env.now())
            .await
            .unwrap();
    }
    let metadata = kv::read_metadata(&mut conn, "k").await.unwrap().unwrap();
    assert_eq!(metadata.current_version, 5);
    assert_eq!(metadata.oldest_version, 3);
    assert_eq!(
        metadata.versions.keys().copied().collect::<Vec<_>>(),
        vec![3, 4, 5]
    );
    assert!(matches!(
        kv::read(&mut conn, &barrier, "k", Some(2), env.now())
            .await
            .unwrap(),
        ReadResult::Missing
    ));
    assert_eq!(
        value_of(
            kv::read(&mut conn, &barrier, "k", Some(3), env.now())
                .await
                .unwrap()
        ),
        r#"{"n":3}"#
    );
}

#[tokio::test]
async fn mount_default_keeps_ten_versions() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    for n in 1..=10 {
        kv::write(&mut conn, &barrier, "k", &json!({"n": n}), None, env.now())
            .await
            .unwrap();
    }
    assert_eq!(
        kv::read_metadata(&mut conn, "k")
            .await
            .unwrap()
            .unwrap()
            .oldest_version,
        0
    );
    kv::write(&mut conn, &barrier, "k", &json!({"n": 11}), None, env.now())
        .await
        .unwrap();
    let metadata = kv::read_metadata(&mut conn, "k").await.unwrap().unwrap();
    assert_eq!(metadata.oldest_version, 2);
    assert_eq!(metadata.versions.len(), 10);
}

#[tokio::test]
async fn delete_undelete_version_lists() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    for n in 1..=3 {
        kv::write(&mut conn, &barrier, "k", &json!({"n": n}), None, env.now())
            .await
            .unwrap();
    }
    assert_eq!(
        kv::delete_versions(&mut conn, "k", &[1, 2, 9], env.now())
            .await
            .unwrap(),
        vec![1, 2]
    );
    // Already deleted versions are skipped.
    assert!(
        kv::delete_versions(&mut conn, "k", &[1], env.now())
            .await
            .unwrap()
            .is_empty()
    );
    env.clock.advance(Duration::milliseconds(5));
    assert!(matches!(
        kv::read(&mut conn, &barrier, "k", Some(1), env.now())
            .await
            .unwrap(),
        ReadResult::Deleted { .. }
    ));
    assert_eq!(
        kv::undelete_versions(&mut conn, "k", &[1], env.now())
            .await
            .unwrap(),
        vec![1]
    );
    assert_eq!(
        value_of(
            kv::read(&mut conn, &barrier, "k", Some(1), env.now())
                .await
                .unwrap()
        ),
        r#"{"n":1}"#
    );

    let no_versions = kv::delete_versions(&mut conn, "k", &[], env.now())
        .await
        .unwrap_err();
    assert_eq!(no_versions.to_string(), "No version number provided");
    let no_destroy = kv::destroy_versions(&mut conn, "k", &[]).await.unwrap_err();
    assert_eq!(no_destroy.to_string(), "no version number provided");

    // Missing keys: nothing happens, no error.
    assert!(
        kv::delete_versions(&mut conn, "nope", &[1], env.now())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        kv::delete_latest(&mut conn, "nope", env.now())
            .await
            .unwrap(),
        None
    );
    // current_version never moves back.
    kv::delete_latest(&mut conn, "k", env.now()).await.unwrap();
    assert_eq!(
        kv::read_metadata(&mut conn, "k")
            .await
            .unwrap()
            .unwrap()
            .current_version,
        3
    );
}

#[tokio::test]
async fn delete_version_after_arms_future_deletion() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    let update = MetadataUpdate {
        delete_version_after: Some(Duration::hours(1)),
        ..Default::default()
    };
    kv::write_metadata(&mut conn, "k", &update, env.now())
        .await
        .unwrap();
    let meta = kv::write(&mut conn, &barrier, "k", &json!({"a": 1}), None, env.now())
        .await
        .unwrap();
    assert_eq!(
        meta.deletion_time,
        Some(meta.created_time + Duration::hours(1))
    );
    // Before the deletion time the version still reads.
    assert!(matches!(
        kv::read(&mut conn, &barrier, "k", None, env.now())
            .await
            .unwrap(),
        ReadResult::Value { .. }
    ));
    env.clock.advance(Duration::minutes(61));
    assert!(matches!(
        kv::read(&mut conn, &barrier, "k", None, env.now())
            .await
            .unwrap(),
        ReadResult::Deleted { .. }
    ));
    // The mount's shorter delay wins.
    kv::write_config(
        &mut conn,
        &MountConfig {
            delete_version_after: Duration::minutes(10),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let meta = kv::write(&mut conn, &barrier, "k", &json!({"a": 2}), None, env.now())
        .await
        .unwrap();
    assert_eq!(
        meta.deletion_time,
        Some(meta.created_time + Duration::minutes(10))
    );
}

#[tokio::test]
async fn patch_merges_and_reports_states() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    assert!(matches!(
        kv::patch(&mut conn, &barrier, "k", &json!({"a": 1}), None, env.now())
            .await
            .unwrap(),
        PatchResult::Missing
    ));
    kv::write(
        &mut conn,
        &barrier,
        "k",
        &json!({"user": "u", "pw": "fake"}),
        None,
        env.now(),
    )
    .await
    .unwrap();
    let PatchResult::Written(meta) = kv::patch(
        &mut conn,
        &barrier,
        "k",
        &json!({"pw": null, "host": "h"}),
        Some(1),
        env.now(),
    )
    .await
    .unwrap() else {
        panic!("expected a write");
    };
    assert_eq!(meta.version, 2);
    assert_eq!(
        value_of(
            kv::read(&mut conn, &barrier, "k", None, env.now())
                .await
                .unwrap()
        ),
        r#"{"host":"h","user":"u"}"#
    );
    assert!(matches!(
        kv::patch(
            &mut conn,
            &barrier,
            "k",
            &json!({"a": 1}),
            Some(1),
            env.now()
        )
        .await,
        Err(VaultError::CasMismatch)
    ));
    kv::delete_latest(&mut conn, "k", env.now()).await.unwrap();
    env.clock.advance(Duration::milliseconds(5));
    assert!(matches!(
        kv::patch(&mut conn, &barrier, "k", &json!({"a": 1}), None, env.now())
            .await
            .unwrap(),
        PatchResult::CurrentDeleted(_)
    ));
}

#[tokio::test]
async fn metadata_custom_fields_and_limits() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    kv::write(&mut conn, &barrier, "k", &json!({"a": 1}), None, env.now())
        .await
        .unwrap();
    let custom = BTreeMap::from([("owner".to_string(), "ops".to_string())]);
    let update = MetadataUpdate {
        custom_metadata: Some(custom.clone()),
        ..Default::default()
    };
    kv::write_metadata(&mut conn, "k", &update, env.now())
        .await
        .unwrap();
    match kv::read(&mut conn, &barrier, "k", None, env.now())
        .await
        .unwrap()
    {
        ReadResult::Value {
            custom_metadata, ..
        } => assert_eq!(custom_metadata, Some(custom)),
        other => panic!("{other:?}"),
    }

    let mut too_many = BTreeMap::new();
    for n in 0..65 {
        too_many.insert(format!("k{n}"), "v".repeat(513));
    }
    let update = MetadataUpdate {
        custom_metadata: Some(too_many),
        ..Default::default()
    };
    let err = kv::write_metadata(&mut conn, "k", &update, env.now())
        .await
        .unwrap_err();
    let VaultError::InvalidMetadata(problems) = err else {
        panic!("expected metadata errors")
    };
    assert_eq!(
        problems.len(),
        66,
        "one problem for the count and one per long value"
    );
}

#[tokio::test]
async fn read_records_last_read() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    kv::write(&mut conn, &barrier, "k", &json!({"a": 1}), None, env.now())
        .await
        .unwrap();
    assert_eq!(
        kv::read_metadata(&mut conn, "k")
            .await
            .unwrap()
            .unwrap()
            .last_read,
        None
    );
    let at = env.now();
    kv::read(&mut conn, &barrier, "k", None, at).await.unwrap();
    assert_eq!(
        kv::read_metadata(&mut conn, "k")
            .await
            .unwrap()
            .unwrap()
            .last_read,
        Some(at)
    );
}
