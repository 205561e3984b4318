//! A recognisable secret value goes through writes, reads, versions,
//! key rotations, errors and a SIGKILL; afterwards it must not occur in
//! any byte of the data folder, in the server's log or in the audit export.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;
mod vault_support;

use std::path::Path;

use common::TestServer;
use serde_json::json;
use vault_support::{Auth, bot_token, create_bot, grant, send, vault};

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if contains(&std::fs::read(&path).unwrap(), needle) {
            found.push(path.display().to_string());
        }
    }
    found
}

#[test]
fn canary_never_reaches_disk_logs_or_audit() {
    let mut server = TestServer::start();
    let root = server.root_token.clone();
    let canary = format!("WARD-CANARY-{:016x}", rand_u64());
    let older = format!("{canary}-OLD");
    create_bot(&server, "invoice-bot");
    grant(
        &server,
        "invoice-bot",
        "bots/*",
        &["read", "update", "list"],
    );
    let path = "/v1/secret/data/bots/canary";

    // Writes: an old version, the canary, and a patch on top.
    assert_eq!(
        vault(
            &server,
            "POST",
            path,
            &root,
            Some(json!({"data": {"pw": older}}))
        )
        .status,
        200
    );
    assert_eq!(
        vault(
            &server,
            "POST",
            path,
            &root,
            Some(json!({"data": {"pw": canary, "user": "svc"}}))
        )
        .status,
        200
    );

    // Reads by the bot, over both headers, and of each version.
    let token = bot_token(&server, "invoice-bot");
    let read = vault(&server, "GET", path, &token, None);
    assert_eq!(read.json["data"]["data"]["pw"], canary.as_str());
    let bearer = send(
        &server.addr,
        "GET",
        &format!("{path}?version=1"),
        Auth::Bearer(&token),
        None,
    );
    assert_eq!(bearer.json["data"]["data"]["pw"], older.as_str());

    // Errors with the value in the request body: CAS mismatch, bad JSON,
    // a denied write, and a sealed request.
    let mismatch = vault(
        &server,
        "POST",
        path,
        &token,
        Some(json!({"data": {"pw": canary}, "options": {"cas": 1}})),
    );
    assert_eq!(mismatch.status, 400);
    assert!(!mismatch.text.contains(&canary));
    let bad_json = reqwest::blocking::Client::new()
        .post(format!("{}{path}", server.addr))
        .header("X-Vault-Token", &token)
        .body(format!("{{\"data\": {{\"pw\": \"{canary}\""))
        .send()
        .unwrap();
    assert_eq!(bad_json.status().as_u16(), 400);
    assert!(!bad_json.text().unwrap().contains(&canary));
    let denied = vault(
        &server,
        "POST",
        "/v1/secret/data/payroll/x",
        &token,
        Some(json!({"data": {"pw": canary}})),
    );
    assert_eq!(denied.status, 403);

    // Key rotations re-encrypt without downtime; the value still reads.
    let (status, body) = server.call("POST", "/v1/vault/keys/rotate", None);
    assert_eq!(status, 200, "{body}");
    let (status, body) = server.call("POST", "/v1/vault/root/rotate", None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        vault(&server, "GET", path, &token, None).json["data"]["data"]["pw"],
        canary.as_str()
    );

    // Soft delete and destroy of the old version.
    vault(
        &server,
        "POST",
        "/v1/secret/delete/bots/canary",
        &root,
        Some(json!({"versions": [1]})),
    );
    vault(
        &server,
        "POST",
        "/v1/secret/destroy/bots/canary",
        &root,
        Some(json!({"versions": [1]})),
    );

    // Audit export while running, then a crash.
    let (status, audit) = server.call("GET", "/v1/audit?limit=10000", None);
    assert_eq!(status, 200);
    assert!(
        audit.as_array().is_some_and(|entries| entries.len() > 10),
        "{audit}"
    );
    let audit_text = audit.to_string();
    server.kill9();

    for needle in [canary.as_str(), older.as_str()] {
        assert!(
            !audit_text.contains(needle),
            "the audit export contains the canary"
        );
        assert!(
            !server.log().contains(needle),
            "the server log contains the canary"
        );
        let hits = files_containing(server.data_dir(), needle.as_bytes());
        assert!(
            hits.is_empty(),
            "the data folder contains the canary in {hits:?}"
        );
    }
    // The search itself works: the (plaintext) path is found on disk.
    assert!(!files_containing(server.data_dir(), b"bots/canary").is_empty());
    // The token never reaches disk either.
    assert!(files_containing(server.data_dir(), token.as_bytes()).is_empty());
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos(),
    );
    hasher.finish()
}
