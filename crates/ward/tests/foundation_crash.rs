//! Durability of the real server: a SIGKILL in the middle of a stream of
//! writes loses no acknowledged write and leaves a chain that verifies, and a
//! database with a newer schema than the binary is rejected at start.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod common;

use std::collections::HashSet;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{TestServer, audit_verify, expect_exit, sql_execute, ward_bin};
use serde_json::{Value, json};

const THREADS: usize = 3;
const REQUESTS_PER_THREAD: usize = 70;
/// Acknowledged writes to wait for before the kill.
const KILL_AFTER: usize = 60;

/// Sends up to `REQUESTS_PER_THREAD` person creations and records the email
/// of each one the server acknowledged with 2xx. Stops at the first
/// connection error, which is the kill.
fn writer(
    addr: String,
    token: String,
    thread: usize,
    acked: Arc<Mutex<Vec<String>>>,
    count: Arc<AtomicUsize>,
) {
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    for i in 0..REQUESTS_PER_THREAD {
        let email = format!("crash-{thread}-{i}@example.com");
        let sent = client
            .post(format!("{addr}/v1/people"))
            .bearer_auth(&token)
            .json(&json!({"name": format!("Writer {thread} {i}"), "email": email}))
            .send();
        let Ok(response) = sent else { return };
        if response.status().is_success() {
            acked.lock().unwrap().push(email);
            count.fetch_add(1, Ordering::SeqCst);
        }
    }
}

#[test]
fn sigkill_keeps_acknowledged_writes() {
    let mut server = TestServer::start();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..THREADS)
        .map(|thread| {
            let (addr, token) = (server.addr.clone(), server.root_token.clone());
            let (acked, count) = (acked.clone(), count.clone());
            std::thread::spawn(move || writer(addr, token, thread, acked, count))
        })
        .collect();

    let deadline = Instant::now() + Duration::from_secs(120);
    while count.load(Ordering::SeqCst) < KILL_AFTER && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.kill9();
    let killed_at = count.load(Ordering::SeqCst);
    for handle in handles {
        handle.join().unwrap();
    }
    assert!(
        killed_at >= KILL_AFTER,
        "only {killed_at} writes were acknowledged before the deadline"
    );
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() < THREADS * REQUESTS_PER_THREAD,
        "the kill landed after the stream ended"
    );

    server.restart();
    let (status, people) = server.call("GET", "/v1/people", None);
    assert_eq!(status, 200, "{people}");
    let stored: HashSet<&str> = people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["email"].as_str().unwrap())
        .collect();
    let missing: Vec<&String> = acked
        .iter()
        .filter(|email| !stored.contains(email.as_str()))
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");

    let audited: HashSet<String> = server
        .audit("action=person.create&limit=10000")
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(e["details"].as_str().unwrap()).unwrap()["email"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        audited.len(),
        stored.len(),
        "every stored person has exactly one audit entry"
    );
    assert!(acked.iter().all(|email| audited.contains(email)));

    expect_exit(&audit_verify(server.data_dir(), &[]), 0);
    let (status, report) = server.call("GET", "/v1/audit/verify", None);
    assert_eq!(status, 200, "{report}");
}

#[test]
fn restart_keeps_state_and_root_token() {
    let mut server = TestServer::start();
    server.add_person("Ana Silva", "ana@example.com");
    server.add_person("Bo Chen", "bo@example.com");
    server.add_bot("ledger-bot", "ana@example.com", "bo@example.com");
    let (status, _) = server.call(
        "POST",
        "/v1/bots/ledger-bot/suspend",
        Some(json!({"reason": "before restart"})),
    );
    assert_eq!(status, 200);
    let (_, token) = server.operator_session("ops", &["operator"]);
    server.restart();
    // A restarted server starts with the vault sealed, and bot routes return
    // 503 until it is unsealed.
    let (status, _) = server.call("GET", "/v1/bots/ledger-bot", None);
    assert_eq!(status, 503);
    server.unseal_dev_vault();
    let (status, bot) = server.call("GET", "/v1/bots/ledger-bot", None);
    assert_eq!(status, 200, "{bot}");
    assert_eq!(bot["state"], "suspended");
    let (status, _) = server.call_as(&token, "GET", "/v1/auth/whoami", None);
    assert_eq!(status, 200, "sessions survive a restart");
    expect_exit(&audit_verify(server.data_dir(), &[]), 0);
}

/// Runs `ward serve` on `data_dir` and returns its exit code and output, or
/// fails when it is still running after 60 seconds.
fn serve_expecting_exit(data_dir: &std::path::Path) -> (Option<i32>, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(ward_bin())
        .args(["serve", "--dev", "--data-dir"])
        .arg(data_dir)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let stopped = AtomicBool::new(false);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            stopped.store(true, Ordering::SeqCst);
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if !stopped.load(Ordering::SeqCst) {
        child.kill().unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stopped.load(Ordering::SeqCst),
        "ward serve kept running on a newer schema:\n{text}"
    );
    (out.status.code(), text)
}

#[test]
fn newer_schema_rejected_at_start() {
    let mut server = TestServer::start();
    server.stop();
    sql_execute(
        &server.db_path(),
        &["UPDATE ward_schema SET version = 99 WHERE component = 'core'"],
    );
    let (code, output) = serve_expecting_exit(server.data_dir());
    assert_ne!(code, Some(0), "{output}");
    assert!(
        output.contains("schema version 99"),
        "the message names the version: {output}"
    );
    assert!(
        output.contains("`core`"),
        "the message names the component: {output}"
    );
    assert!(
        output.contains("upgrade ward"),
        "the message says what to do: {output}"
    );
}
