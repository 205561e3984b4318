//! Appends entries to a real SQLite store and checks what verification finds
//! after each kind of tampering.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

use sqlx::SqlitePool;
use ward_audit::{
    AuditEntry, CheckpointSigner, Outcome, VerifyError, append, verify, write_checkpoint,
};
use ward_store::Store;

async fn store_with_entries(dir: &std::path::Path, count: usize) -> (Store, CheckpointSigner) {
    let store = Store::open(dir, &[ward_audit::SCHEMA]).await.unwrap();
    let signer = CheckpointSigner::load_or_create(&dir.join("keys")).unwrap();
    let now = time::OffsetDateTime::now_utc();
    for i in 0..count {
        let mut tx = store.begin_write().await.unwrap();
        let entry = AuditEntry::new("op_test", "bot.suspend", Outcome::Success)
            .bot(format!("bot_{i}"))
            .details(serde_json::json!({"reason": format!("entry {i}")}));
        append(&mut tx, now, &entry).await.unwrap();
        tx.commit().await.unwrap();
    }
    (store, signer)
}

async fn first_failure(pool: &SqlitePool, signer: &CheckpointSigner) -> Option<i64> {
    match verify(pool, &signer.verifying_key()).await {
        Ok(_) => None,
        Err(VerifyError::Broken(failure)) => Some(failure.seq),
        Err(other) => panic!("verification could not run: {other}"),
    }
}

#[tokio::test]
async fn intact_chain_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (store, signer) = store_with_entries(dir.path(), 5).await;
    let report = verify(store.writer(), &signer.verifying_key())
        .await
        .unwrap();
    assert_eq!(report.entries, 5);
}

#[tokio::test]
async fn edited_row_fails_at_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    let (store, signer) = store_with_entries(dir.path(), 5).await;
    sqlx::query("UPDATE audit_log SET actor = 'someone_else' WHERE seq = 3")
        .execute(store.writer())
        .await
        .unwrap();
    assert_eq!(first_failure(store.writer(), &signer).await, Some(3));
}

#[tokio::test]
async fn deleted_row_fails_at_its_seq() {
    let dir = tempfile::tempdir().unwrap();
    let (store, signer) = store_with_entries(dir.path(), 5).await;
    sqlx::query("DELETE FROM audit_log WHERE seq = 2")
        .execute(store.writer())
        .await
        .unwrap();
    assert_eq!(first_failure(store.writer(), &signer).await, Some(2));
}

#[tokio::test]
async fn truncated_tail_after_checkpoint_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (store, signer) = store_with_entries(dir.path(), 5).await;
    let mut conn = store.writer().acquire().await.unwrap();
    write_checkpoint(&mut conn, &signer, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    drop(conn);
    sqlx::query("DELETE FROM audit_log WHERE seq >= 4")
        .execute(store.writer())
        .await
        .unwrap();
    assert_eq!(first_failure(store.writer(), &signer).await, Some(4));
}

#[tokio::test]
async fn forged_checkpoint_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (store, signer) = store_with_entries(dir.path(), 3).await;
    let mut conn = store.writer().acquire().await.unwrap();
    write_checkpoint(&mut conn, &signer, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    drop(conn);
    sqlx::query("UPDATE audit_checkpoints SET at = '2020-01-01T00:00:00.000000Z'")
        .execute(store.writer())
        .await
        .unwrap();
    assert_eq!(first_failure(store.writer(), &signer).await, Some(3));
}
