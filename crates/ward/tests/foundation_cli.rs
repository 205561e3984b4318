//! The `ward` binary as an operator meets it: help text on every command,
//! Prometheus metrics, JSON log lines, and no secret in the database file,
//! the log or the audit export.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{TestServer, expect_exit, server_unix_time, totp_code, ward_bin};
use serde_json::{Value, json};

fn help_of(path: &[String]) -> String {
    let out = Command::new(ward_bin())
        .args(path)
        .arg("--help")
        .output()
        .unwrap();
    expect_exit(&out, 0)
}

/// Names listed under the `Commands:` heading of a help page.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// Option and argument lines of a help page that carry no description,
/// neither on the same line nor indented on the next one (clap's long layout).
fn undescribed(help: &str) -> Vec<String> {
    let lines: Vec<&str> = help.lines().collect();
    let indent = |line: &str| line.len() - line.trim_start().len();
    let mut missing = Vec::new();
    let mut in_list = false;
    for (index, line) in lines.iter().enumerate() {
        if line.starts_with("Options:") || line.starts_with("Arguments:") {
            in_list = true;
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            in_list = false;
            continue;
        }
        let entry = line.trim_start();
        // clap indents option names by 2 or 6 spaces and descriptions by more.
        let is_entry = indent(line) <= 6
            && (entry.starts_with('-') || entry.starts_with('<') || entry.starts_with('['));
        if !in_list || !is_entry || entry.contains("  ") {
            continue;
        }
        let described_below = lines
            .get(index + 1)
            .is_some_and(|next| !next.trim().is_empty() && indent(next) > indent(line));
        if !described_below {
            missing.push(entry.to_string());
        }
    }
    missing
}

#[test]
fn every_command_describes_its_options() {
    let mut pending: Vec<Vec<String>> = vec![vec![]];
    let mut visited = 0;
    let mut missing = Vec::new();
    while let Some(path) = pending.pop() {
        let help = help_of(&path);
        visited += 1;
        for entry in undescribed(&help) {
            missing.push(format!("ward {}: {entry}", path.join(" ")));
        }
        for name in subcommands(&help) {
            let mut child = path.clone();
            child.push(name);
            pending.push(child);
        }
    }
    assert!(visited > 25, "walked only {visited} help pages");
    assert!(
        missing.is_empty(),
        "options without help text:\n{}",
        missing.join("\n")
    );
}

#[test]
fn help_says_what_options_set() {
    let serve = help_of(&["serve".to_string()]);
    for expected in [
        "--review-grace-days",
        "--working-hours",
        "--log-format",
        "--test-clock",
        "--data-dir",
    ] {
        assert!(
            serve.contains(expected),
            "ward serve --help lacks {expected}:\n{serve}"
        );
    }
    assert!(
        serve.contains("quarantined"),
        "the grace option says what happens after it:\n{serve}"
    );

    let create = help_of(&["bot".to_string(), "create".to_string()]);
    assert!(create.contains("90 days"), "{create}");
    assert!(create.contains("blue-prism"), "{create}");

    let verify = help_of(&["audit".to_string(), "verify".to_string()]);
    assert!(
        verify.contains("Exits 0") || verify.contains("exit"),
        "{verify}"
    );

    let query = help_of(&["audit".to_string(), "query".to_string()]);
    assert!(query.contains("7d"), "{query}");
}

#[test]
fn metrics_count_routes_and_appends() {
    let server = TestServer::start();
    server.add_person("Ana Silva", "ana@example.com");
    server.add_person("Bo Chen", "bo@example.com");
    server.add_bot("ledger-bot", "ana@example.com", "bo@example.com");
    let (status, _) = server.call("POST", "/v1/bots", Some(json!({})));
    assert_eq!(status, 400);
    let (status, _) = server.call("GET", "/v1/bots/ledger-bot", None);
    assert_eq!(status, 200);

    let text = reqwest::blocking::get(format!("{}/metrics", server.addr))
        .unwrap()
        .text()
        .unwrap();
    let has = |needles: &[&str]| {
        text.lines().any(|line| {
            line.starts_with("ward_http_requests_total") && needles.iter().all(|n| line.contains(n))
        })
    };
    assert!(
        has(&["route=\"/v1/bots\"", "status=\"201\"", "method=\"POST\""]),
        "{text}"
    );
    assert!(has(&["route=\"/v1/bots\"", "status=\"400\""]), "{text}");
    assert!(
        has(&["route=\"/v1/bots/{id}\"", "status=\"200\""]),
        "routes are templates, not raw paths: {text}"
    );
    assert!(!text.contains("ledger-bot"), "no raw path label: {text}");
    assert!(
        text.lines()
            .any(|line| line.starts_with("ward_audit_appends_total") && line.contains("success")),
        "{text}"
    );
}

#[test]
fn log_format_json_writes_json_lines() {
    let mut server = TestServer::start_with(&["--log-format", "json"]);
    server.add_person("Ana Silva", "ana@example.com");
    server.stop();
    let log = server.log();
    let json_lines: Vec<Value> = log
        .lines()
        .filter(|line| line.starts_with('{'))
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|err| panic!("not JSON ({err}): {line}"))
        })
        .collect();
    assert!(json_lines.len() >= 3, "{log}");
    for line in &json_lines {
        assert!(line["level"].is_string(), "{line}");
        assert!(line["timestamp"].is_string(), "{line}");
    }
    assert!(
        json_lines.iter().any(|l| l["message"] == "store opened"),
        "{log}"
    );
    assert!(
        json_lines.iter().any(|l| l["message"] == "server stopped"),
        "{log}"
    );
    let other: Vec<&str> = log
        .lines()
        .filter(|line| !line.starts_with('{') && !line.trim().is_empty())
        .collect();
    assert!(
        other
            .iter()
            .all(|line| !line.contains(" INFO ") && !line.contains(" WARN ")),
        "text log lines in JSON mode: {other:?}"
    );
}

/// Lists every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[test]
fn secrets_absent_from_disk_log_and_export() {
    const PASSWORD: &str = "Canary-Pa55word-XYZZY-42";
    const WRONG_PASSWORD: &str = "Wrong-Canary-Pa55word-QQQ";
    let mut server = TestServer::start();
    let person = server.add_person("Ana Silva", "ana@example.com");
    server.add_person("Bo Chen", "bo@example.com");
    let (_, secret) = server.add_operator(&person, "ana", PASSWORD, &["admin"]);
    let (status, body) = server.login("ana", PASSWORD, &secret);
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_string();
    let code = totp_code(&secret, server_unix_time(&server));
    let (status, _) = server.call_as(
        "",
        "POST",
        "/v1/auth/login",
        Some(json!({"username": "ana", "password": WRONG_PASSWORD, "totp": code})),
    );
    assert_eq!(status, 401);
    server.add_bot_as(&token, "ledger-bot", "ana@example.com", "bo@example.com");
    let (status, _) = server.call_as(
        &token,
        "POST",
        "/v1/bots/ledger-bot/suspend",
        Some(json!({"reason": "canary"})),
    );
    assert_eq!(status, 200);

    let export = expect_exit(&server.cli(&["audit", "query", "-o", "json"]), 0);
    assert!(export.contains("auth.login"), "{export}");
    server.stop();

    let secret_bytes = totp_rs::Secret::Encoded(secret.clone()).to_bytes().unwrap();
    let canaries: Vec<(&str, Vec<u8>)> = vec![
        ("password", PASSWORD.as_bytes().to_vec()),
        ("wrong password", WRONG_PASSWORD.as_bytes().to_vec()),
        ("TOTP secret (base32)", secret.as_bytes().to_vec()),
        ("TOTP secret (raw)", secret_bytes),
        ("session token", token.as_bytes().to_vec()),
    ];
    let mut places: Vec<(String, Vec<u8>)> = files_under(server.data_dir())
        .into_iter()
        .map(|path| (path.display().to_string(), std::fs::read(&path).unwrap()))
        .collect();
    assert!(places.iter().any(|(name, _)| name.ends_with("ward.db")));
    places.push(("server log".to_string(), server.log().into_bytes()));
    places.push(("audit export".to_string(), export.into_bytes()));
    for (name, bytes) in &places {
        for (what, canary) in &canaries {
            assert!(
                !contains_bytes(bytes, canary),
                "the {what} appears in {name}"
            );
        }
    }
}
