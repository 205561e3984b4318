//! The audit log through the real server and `ward audit`: queries by bot,
//! actor, action and time, and offline verification that finds rows edited,
//! deleted, reordered or cut off in the SQLite file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod common;

use common::{TestServer, audit_verify, expect_exit, sql_execute, sql_run, sql_scalar};
use serde_json::{Value, json};
use ward_audit::AuditRecord;

/// Starts a server with two bots and a few state changes, about a dozen
/// audit entries in all.
fn busy_server() -> TestServer {
    let server = TestServer::start();
    server.add_person("Ana Silva", "ana@example.com");
    server.add_person("Bo Chen", "bo@example.com");
    server.add_bot("ledger-bot", "ana@example.com", "bo@example.com");
    server.add_bot("mail-bot", "bo@example.com", "ana@example.com");
    for transition in ["suspend", "reactivate", "quarantine"] {
        let (status, body) = server.call(
            "POST",
            &format!("/v1/bots/ledger-bot/{transition}"),
            Some(json!({"reason": "drill"})),
        );
        assert_eq!(status, 200, "{body}");
    }
    server
}

/// Runs `ward audit verify -o json` and returns its exit code and report.
fn verify_json(server: &TestServer) -> (i32, Value) {
    let out = audit_verify(server.data_dir(), &["-o", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = serde_json::from_str(&stdout).unwrap_or_else(|_| {
        panic!(
            "no JSON report: {stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), report)
}

fn assert_broken_at(server: &TestServer, seq: i64) {
    let (code, report) = verify_json(server);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["intact"], false, "{report}");
    assert_eq!(report["seq"], seq, "{report}");

    let out = audit_verify(server.data_dir(), &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("sequence {seq}")),
        "the table output names the sequence: {text}"
    );
}

#[test]
fn verify_passes_while_running() {
    let server = busy_server();
    let out = audit_verify(server.data_dir(), &[]);
    let text = expect_exit(&out, 0);
    assert!(text.contains("intact"), "{text}");
    let (code, report) = verify_json(&server);
    assert_eq!(code, 0);
    assert!(report["entries"].as_i64().unwrap() >= 10, "{report}");

    let (status, online) = server.call("GET", "/v1/audit/verify", None);
    assert_eq!(status, 200, "{online}");
    let (status, _) = server.call(
        "POST",
        "/v1/bots/ledger-bot/reactivate",
        Some(json!({"reason": "after verify"})),
    );
    assert_eq!(
        status, 200,
        "the server keeps writing after an offline verify"
    );
}

#[test]
fn verify_passes_after_clean_stop() {
    let mut server = busy_server();
    server.stop();
    let (code, report) = verify_json(&server);
    assert_eq!(code, 0, "{report}");
    assert!(
        report["checkpoints"].as_i64().unwrap() >= 1,
        "shutdown signs a checkpoint: {report}"
    );
    let head = report["head_seq"].as_i64().unwrap();
    let last_checkpoint = report["last_checkpoint_seq"].as_i64().unwrap();
    assert!(
        last_checkpoint >= head - 1,
        "checkpoint {last_checkpoint}, head {head}"
    );
}

#[test]
fn edited_row_names_its_sequence() {
    let mut server = busy_server();
    server.stop();
    sql_execute(
        &server.db_path(),
        &["UPDATE audit_log SET details = '{\"reason\":\"nothing happened\"}' WHERE seq = 6"],
    );
    assert_broken_at(&server, 6);
}

#[test]
fn edited_actor_detected_while_running() {
    let server = busy_server();
    sql_execute(
        &server.db_path(),
        &["UPDATE audit_log SET actor = 'someone-else' WHERE seq = 4"],
    );
    assert_broken_at(&server, 4);
    let (status, answer) = server.call("GET", "/v1/audit/verify", None);
    assert_eq!(status, 409, "{answer}");
    assert_eq!(answer["error"]["code"], "audit_chain_broken");
}

#[test]
fn rehashed_row_breaks_next_link() {
    let mut server = busy_server();
    server.stop();
    // An attacker edits entry 5 and recomputes its own hash: entry 6 still
    // points at the old hash.
    let db = server.db_path();
    sql_run(&db, |mut conn| async move {
        let mut record: AuditRecord = sqlx::query_as("SELECT * FROM audit_log WHERE seq = 5")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        record.actor = "someone-else".to_string();
        let hash = ward_audit::entry_hash(&record);
        sqlx::query("UPDATE audit_log SET actor = ?, hash = ? WHERE seq = 5")
            .bind(&record.actor)
            .bind(&hash)
            .execute(&mut conn)
            .await
            .unwrap();
    });
    assert_broken_at(&server, 6);
}

#[test]
fn rewritten_chain_fails_checkpoint() {
    let mut server = busy_server();
    server.stop();
    // Rewriting every hash from entry 3 on keeps the links consistent; only
    // the signed checkpoint can tell.
    let db = server.db_path();
    sql_run(&db, |mut conn| async move {
        let records: Vec<AuditRecord> = sqlx::query_as("SELECT * FROM audit_log ORDER BY seq")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let mut prev_hash = String::new();
        for mut record in records {
            if record.seq == 3 {
                record.actor = "someone-else".to_string();
            }
            if record.seq >= 3 {
                if record.seq > 3 {
                    record.prev_hash = prev_hash.clone();
                }
                record.hash = ward_audit::entry_hash(&record);
                sqlx::query(
                    "UPDATE audit_log SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                )
                .bind(&record.actor)
                .bind(&record.prev_hash)
                .bind(&record.hash)
                .bind(record.seq)
                .execute(&mut conn)
                .await
                .unwrap();
            }
            prev_hash = record.hash;
        }
    });
    let (code, report) = verify_json(&server);
    assert_eq!(code, 1, "{report}");
    assert!(
        report["reason"].as_str().unwrap().contains("checkpoint"),
        "{report}"
    );
}

#[test]
fn deleted_row_names_its_sequence() {
    let mut server = busy_server();
    server.stop();
    sql_execute(&server.db_path(), &["DELETE FROM audit_log WHERE seq = 5"]);
    assert_broken_at(&server, 5);
}

#[test]
fn reordered_rows_detected() {
    let mut server = busy_server();
    server.stop();
    sql_execute(
        &server.db_path(),
        &[
            "UPDATE audit_log SET seq = -1 WHERE seq = 7",
            "UPDATE audit_log SET seq = 7 WHERE seq = 8",
            "UPDATE audit_log SET seq = 8 WHERE seq = -1",
        ],
    );
    assert_broken_at(&server, 7);
}

#[test]
fn truncated_tail_after_checkpoint_detected() {
    let mut server = busy_server();
    server.stop();
    let db = server.db_path();
    let checkpoint = sql_scalar(&db, "SELECT MAX(seq) FROM audit_checkpoints");
    assert!(
        checkpoint > 5,
        "shutdown signed a checkpoint at {checkpoint}"
    );
    let cut = checkpoint - 2;
    sql_execute(&db, &[&format!("DELETE FROM audit_log WHERE seq >= {cut}")]);
    assert_broken_at(&server, cut);
}

#[test]
fn forged_checkpoint_detected() {
    let mut server = busy_server();
    server.stop();
    let db = server.db_path();
    sql_execute(
        &db,
        &["UPDATE audit_checkpoints SET head_hash = (SELECT hash FROM audit_log WHERE seq = 2)"],
    );
    let (code, report) = verify_json(&server);
    assert_eq!(code, 1, "{report}");
    assert!(
        report["reason"].as_str().unwrap().contains("signature"),
        "{report}"
    );
}

fn query_json(server: &TestServer, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["audit", "query", "-o", "json"];
    all.extend_from_slice(args);
    let out = server.cli(&all);
    serde_json::from_str::<Value>(&expect_exit(&out, 0))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn query_filters_bot_actor_action_time() {
    let server = busy_server();
    let (_, token) = server.operator_session("ops", &["operator"]);
    let (status, body) = server.call_as(
        &token,
        "POST",
        "/v1/bots/mail-bot/suspend",
        Some(json!({"reason": "operator drill"})),
    );
    assert_eq!(status, 200, "{body}");
    let operator = server.call_as(&token, "GET", "/v1/auth/whoami", None).1["operator_id"]
        .as_str()
        .unwrap()
        .to_string();

    let ledger = query_json(&server, &["--bot", "ledger-bot", "--since", "7d"]);
    let actions: Vec<&str> = ledger
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            "bot.create",
            "bot.suspend",
            "bot.reactivate",
            "bot.quarantine"
        ]
    );

    let by_operator = query_json(&server, &["--actor", &operator]);
    let actions: Vec<&str> = by_operator
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["auth.login", "bot.suspend"],
        "{by_operator:#?}"
    );

    let suspends = query_json(&server, &["--action", "bot.suspend"]);
    assert_eq!(suspends.len(), 2);
    let bot_actions = query_json(&server, &["--action", "bot."]);
    assert!(bot_actions.len() >= 6, "{bot_actions:#?}");
    assert!(
        bot_actions
            .iter()
            .all(|e| e["action"].as_str().unwrap().starts_with("bot."))
    );

    server.advance_clock("10d");
    let (status, _) = server.call(
        "POST",
        "/v1/bots/ledger-bot/reactivate",
        Some(json!({"reason": "later"})),
    );
    assert_eq!(status, 200);
    let recent = query_json(&server, &["--bot", "ledger-bot", "--since", "7d"]);
    let actions: Vec<&str> = recent
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["bot.reactivate"],
        "only the last 7 days on the server clock"
    );
    let older = query_json(&server, &["--bot", "ledger-bot", "--until", "7d"]);
    assert_eq!(older.len(), 4);

    let table = expect_exit(
        &server.cli(&["audit", "query", "--bot", "ledger-bot", "--since", "7d"]),
        0,
    );
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("SEQ"), "{table}");
    assert!(lines[0].contains("ACTION"), "{table}");
    assert_eq!(lines.len(), 2, "a header and one row: {table}");
    assert!(lines[1].contains("bot.reactivate"), "{table}");

    let queries = server.audit("action=audit.query");
    assert!(
        queries.len() >= 7,
        "each query is itself audited: {}",
        queries.len()
    );
    let out = server.cli(&["audit", "query", "--since", "last tuesday"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("since"));
}

#[test]
fn query_warns_when_limit_reached() {
    let server = busy_server();
    let out = server.cli(&["audit", "query", "--limit", "3", "-o", "json"]);
    let entries: Value = serde_json::from_str(&expect_exit(&out, 0)).unwrap();
    assert_eq!(entries.as_array().unwrap().len(), 3);
    assert_eq!(entries[0]["seq"], 1, "entries come oldest first");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--limit"),
        "a full page says more entries may exist: {stderr}"
    );

    let out = server.cli(&["audit", "query", "--bot", "mail-bot"]);
    expect_exit(&out, 0);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn verify_under_writes_and_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ward.toml");
    std::fs::write(&config, "checkpoint_interval_secs = 1\n").unwrap();
    let server = TestServer::start_with(&["--config", config.to_str().unwrap()]);
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        scope.spawn(|| {
            // Bounded stream of writes while verification runs.
            for i in 0..400 {
                if done.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                server.add_person(&format!("Writer {i}"), &format!("writer-{i}@example.com"));
            }
        });
        for round in 0..20 {
            let out = audit_verify(server.data_dir(), &[]);
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            if out.status.code() != Some(0) {
                done.store(true, std::sync::atomic::Ordering::SeqCst);
                panic!("round {round}: verify failed on an intact log:\n{text}");
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        done.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    let checkpoints = sql_scalar(&server.db_path(), "SELECT COUNT(*) FROM audit_checkpoints");
    assert!(
        checkpoints >= 2,
        "checkpoints were signed during the run: {checkpoints}"
    );
}
