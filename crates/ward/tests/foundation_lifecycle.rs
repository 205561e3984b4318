//! Bot lifecycle through the real server: allowed transitions, reasons and
//! their audit entries, and the lifecycle job on the test clock (overdue
//! reviews, quarantine after the grace period, owners who leave).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod common;

use common::{TestServer, expect_exit};
use serde_json::{Value, json};

fn server_with_bot(extra: &[&str]) -> TestServer {
    let server = TestServer::start_with(extra);
    server.add_person("Ana Silva", "ana@example.com");
    server.add_person("Bo Chen", "bo@example.com");
    server.add_bot("ledger-bot", "ana@example.com", "bo@example.com");
    server
}

fn transition(server: &TestServer, bot: &str, name: &str) -> (u16, Value) {
    server.call(
        "POST",
        &format!("/v1/bots/{bot}/{name}"),
        Some(json!({"reason": format!("test {name}")})),
    )
}

fn run_lifecycle(server: &TestServer) -> Value {
    let (status, report) = server.call("POST", "/v1/sys/jobs/lifecycle", None);
    assert_eq!(status, 200, "{report}");
    report
}

fn bot(server: &TestServer, name: &str) -> Value {
    let (status, bot) = server.call("GET", &format!("/v1/bots/{name}"), None);
    assert_eq!(status, 200, "{bot}");
    bot
}

fn details(entry: &Value) -> Value {
    serde_json::from_str(entry["details"].as_str().unwrap()).unwrap()
}

#[test]
fn transitions_follow_state_machine() {
    let server = server_with_bot(&[]);
    // (transition, expected status, state afterwards)
    let steps = [
        ("reactivate", 409, "active"),
        ("suspend", 200, "suspended"),
        ("suspend", 409, "suspended"),
        ("quarantine", 200, "quarantined"),
        ("quarantine", 409, "quarantined"),
        ("suspend", 200, "suspended"),
        ("reactivate", 200, "active"),
        ("quarantine", 200, "quarantined"),
        ("reactivate", 200, "active"),
        ("retire", 200, "retired"),
        ("reactivate", 409, "retired"),
        ("suspend", 409, "retired"),
        ("quarantine", 409, "retired"),
        ("retire", 409, "retired"),
    ];
    for (name, status, state) in steps {
        let (got, answer) = transition(&server, "ledger-bot", name);
        assert_eq!(got, status, "{name}: {answer}");
        if status == 409 {
            assert_eq!(
                answer["error"]["code"], "transition_not_allowed",
                "{name}: {answer}"
            );
        }
        assert_eq!(bot(&server, "ledger-bot")["state"], state, "after {name}");
    }

    let changes: Vec<Value> = server
        .audit("bot=ledger-bot&action=bot.")
        .into_iter()
        .filter(|e| e["action"] != "bot.create")
        .collect();
    let expected = [
        ("bot.suspend", "active", "suspended"),
        ("bot.quarantine", "suspended", "quarantined"),
        ("bot.suspend", "quarantined", "suspended"),
        ("bot.reactivate", "suspended", "active"),
        ("bot.quarantine", "active", "quarantined"),
        ("bot.reactivate", "quarantined", "active"),
        ("bot.retire", "active", "retired"),
    ];
    assert_eq!(changes.len(), expected.len(), "{changes:#?}");
    for (entry, (action, from, to)) in changes.iter().zip(expected) {
        assert_eq!(entry["action"], action);
        assert_eq!(entry["actor"], "root");
        let details = details(entry);
        assert_eq!(details["from"], from, "{entry}");
        assert_eq!(details["to"], to, "{entry}");
        assert!(
            details["reason"].as_str().unwrap().starts_with("test "),
            "{entry}"
        );
    }
}

#[test]
fn transition_requires_reason() {
    let server = server_with_bot(&[]);
    for body in [json!({}), json!({"reason": ""}), json!({"reason": "   "})] {
        let (status, answer) =
            server.call("POST", "/v1/bots/ledger-bot/suspend", Some(body.clone()));
        assert_eq!(status, 400, "{body}: {answer}");
        assert_eq!(answer["error"]["field"], "reason", "{answer}");
    }
    let (status, _) = server.call(
        "POST",
        "/v1/bots/ledger-bot/frobnicate",
        Some(json!({"reason": "x"})),
    );
    assert_eq!(status, 404);
    assert_eq!(bot(&server, "ledger-bot")["state"], "active");
    assert!(server.audit("action=bot.suspend").is_empty());
}

#[test]
fn cli_transitions_and_refusals() {
    let server = server_with_bot(&[]);
    for (command, state) in [
        ("suspend", "suspended"),
        ("quarantine", "quarantined"),
        ("reactivate", "active"),
        ("retire", "retired"),
    ] {
        let out = server.cli(&[
            "bot",
            command,
            "ledger-bot",
            "--reason",
            "change ticket CHG-1",
            "-o",
            "json",
        ]);
        let answer: Value = serde_json::from_str(&expect_exit(&out, 0)).unwrap();
        assert_eq!(answer["state"], state, "{command}");
    }
    let out = server.cli(&["bot", "reactivate", "ledger-bot", "--reason", "undo"]);
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("409") && stderr.contains("retired"),
        "{stderr}"
    );

    let out = server.cli(&["bot", "suspend", "ledger-bot"]);
    assert_ne!(out.status.code(), Some(0), "--reason is required");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--reason"), "{stderr}");
}

#[test]
fn overdue_review_quarantines_after_grace() {
    let server = server_with_bot(&["--review-grace-days", "7"]);

    server.advance_clock("89d");
    let report = run_lifecycle(&server);
    assert_eq!(report["review_overdue"], json!([]), "{report}");
    assert_eq!(bot(&server, "ledger-bot")["review_overdue"], false);

    server.advance_clock("2d");
    let report = run_lifecycle(&server);
    assert_eq!(report["review_overdue"], json!(["ledger-bot"]), "{report}");
    let overdue = bot(&server, "ledger-bot");
    assert_eq!(overdue["review_overdue"], true);
    assert_eq!(overdue["state"], "active");

    server.advance_clock("5d");
    let report = run_lifecycle(&server);
    assert_eq!(
        report["quarantined"],
        json!([]),
        "still inside the grace period: {report}"
    );
    assert_eq!(bot(&server, "ledger-bot")["state"], "active");

    server.advance_clock("2d");
    let report = run_lifecycle(&server);
    assert_eq!(report["quarantined"], json!(["ledger-bot"]), "{report}");
    assert_eq!(bot(&server, "ledger-bot")["state"], "quarantined");

    let entries = server.audit("bot=ledger-bot&action=bot.quarantine");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["actor"], "system");
    assert!(
        details(&entries[0])["reason"]
            .as_str()
            .unwrap()
            .contains("grace"),
        "{}",
        entries[0]
    );
    assert_eq!(
        server
            .audit("bot=ledger-bot&action=bot.review_overdue")
            .len(),
        1
    );

    let report = run_lifecycle(&server);
    assert_eq!(
        report["quarantined"],
        json!([]),
        "a second run changes nothing: {report}"
    );
}

#[test]
fn late_lifecycle_run_quarantines_at_once() {
    let server = server_with_bot(&["--review-grace-days", "14"]);
    server.advance_clock("120d");
    let report = run_lifecycle(&server);
    assert_eq!(report["review_overdue"], json!(["ledger-bot"]), "{report}");
    assert_eq!(report["quarantined"], json!(["ledger-bot"]), "{report}");
    assert_eq!(bot(&server, "ledger-bot")["state"], "quarantined");
}

#[test]
fn owner_leaving_hands_bot_to_backup() {
    let server = server_with_bot(&[]);
    let before = bot(&server, "ledger-bot");
    let (status, person) = server.call("POST", "/v1/people/ana@example.com/leave", None);
    assert_eq!(status, 200, "{person}");
    assert_eq!(person["status"], "left");
    let (status, again) = server.call("POST", "/v1/people/ana@example.com/leave", None);
    assert_eq!(status, 409, "{again}");

    let report = run_lifecycle(&server);
    assert_eq!(
        report["handed_to_backup"],
        json!(["ledger-bot"]),
        "{report}"
    );
    let after = bot(&server, "ledger-bot");
    assert_eq!(after["owner_id"], before["backup_owner_id"]);
    assert_eq!(after["state"], "active");
    assert!(
        after["owner_flag"].as_str().unwrap().contains("owner_left"),
        "{after}"
    );

    let entries = server.audit("bot=ledger-bot&action=bot.owner_handover");
    assert_eq!(entries.len(), 1);

    let report = run_lifecycle(&server);
    assert_eq!(
        report["flagged"],
        json!([]),
        "a second run changes nothing: {report}"
    );
    assert_eq!(report["handed_to_backup"], json!([]), "{report}");
    assert!(
        bot(&server, "ledger-bot")["owner_flag"]
            .as_str()
            .unwrap()
            .contains("owner_left")
    );
    assert!(
        server
            .audit("bot=ledger-bot&action=bot.owner_flag")
            .is_empty()
    );
    assert_eq!(details(&entries[0])["previous_owner"], before["owner_id"]);
    assert_eq!(details(&entries[0])["new_owner"], before["backup_owner_id"]);
}

#[test]
fn both_owners_leaving_quarantines() {
    let server = server_with_bot(&[]);
    for email in ["ana@example.com", "bo@example.com"] {
        let (status, body) = server.call("POST", &format!("/v1/people/{email}/leave"), None);
        assert_eq!(status, 200, "{body}");
    }
    let report = run_lifecycle(&server);
    assert_eq!(report["quarantined"], json!(["ledger-bot"]), "{report}");
    let after = bot(&server, "ledger-bot");
    assert_eq!(after["state"], "quarantined");
    assert!(
        after["owner_flag"].as_str().unwrap().contains("orphaned"),
        "{after}"
    );
    let entries = server.audit("bot=ledger-bot&action=bot.quarantine");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["actor"], "system");
}

/// Signs in an operator created with [`TestServer::add_operator`].
fn sign_in(server: &TestServer, username: &str, secret: &str) -> String {
    let (status, body) = server.login(username, &format!("{username}-long-password-1"), secret);
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_string()
}

#[test]
fn review_certify_by_owner_moves_date() {
    let server = TestServer::start();
    let mut secrets = Vec::new();
    for (username, roles) in [("ana", "operator"), ("bo", "operator"), ("cy", "builder")] {
        let person = server.add_person(username, &format!("{username}@example.com"));
        let password = format!("{username}-long-password-1");
        secrets.push(
            server
                .add_operator(&person, username, &password, &[roles])
                .1,
        );
    }
    server.add_bot("ledger-bot", "ana@example.com", "bo@example.com");

    server.advance_clock("95d");
    run_lifecycle(&server);
    let overdue = bot(&server, "ledger-bot");
    assert_eq!(overdue["review_overdue"], true);
    // Sessions last hours, so sign in after moving the clock.
    let owner_token = sign_in(&server, "ana", &secrets[0]);
    let backup_token = sign_in(&server, "bo", &secrets[1]);
    let stranger_token = sign_in(&server, "cy", &secrets[2]);

    let out = server.cli_as(
        &stranger_token,
        &["bot", "review", "ledger-bot", "--certify"],
    );
    assert_ne!(out.status.code(), Some(0), "a non-owner may not certify");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("403"), "{stderr}");
    let denied = server.audit("bot=ledger-bot&action=bot.review");
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0]["outcome"], "denied");

    let out = server.cli_as(
        &owner_token,
        &["bot", "review", "ledger-bot", "--certify", "-o", "json"],
    );
    let certified: Value = serde_json::from_str(&expect_exit(&out, 0)).unwrap();
    assert_eq!(certified["review_overdue"], false);
    assert!(certified["review_by"].as_str().unwrap() > overdue["review_by"].as_str().unwrap());

    let out = server.cli_as(
        &backup_token,
        &[
            "bot",
            "review",
            "ledger-bot",
            "--certify",
            "--note",
            "still needed",
        ],
    );
    expect_exit(&out, 0);
    let out = server.cli(&["bot", "review", "ledger-bot", "--certify"]);
    expect_exit(&out, 0);

    let out = server.cli(&["bot", "review", "ledger-bot"]);
    assert_ne!(out.status.code(), Some(0), "--certify is required");

    let outcomes: Vec<Value> = server
        .audit("bot=ledger-bot&action=bot.review")
        .iter()
        .map(|e| e["outcome"].clone())
        .collect();
    assert_eq!(
        outcomes,
        vec![
            json!("denied"),
            json!("success"),
            json!("success"),
            json!("success")
        ]
    );

    server.advance_clock("30d");
    let report = run_lifecycle(&server);
    assert_eq!(
        report["quarantined"],
        json!([]),
        "certified bot is not quarantined: {report}"
    );
}

#[test]
fn scheduled_job_quarantines_without_trigger() {
    let server = server_with_bot(&["--lifecycle-interval", "1", "--review-grace-days", "1"]);
    server.advance_clock("100d");
    // The job runs every second on its own; wait for it, bounded.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while bot(&server, "ledger-bot")["state"] != "quarantined"
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(bot(&server, "ledger-bot")["state"], "quarantined");
    let entries = server.audit("bot=ledger-bot&action=bot.quarantine");
    assert_eq!(entries[0]["actor"], "system");
}
