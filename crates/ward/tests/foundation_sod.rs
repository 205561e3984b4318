//! Separation of duties on privilege requests, through the real server and
//! the CLI: nobody approves their own request, the builder of a bot never
//! approves privilege for it, and every refusal is audited.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod common;

use common::{TestServer, expect_exit};
use serde_json::{Value, json};

struct Team {
    server: TestServer,
    requester: (String, String),
    builder: (String, String),
    workflow_author: (String, String),
    approver: (String, String),
}

/// Starts a server with four signed-in operators, all approvers, and a bot
/// that `builder` registered and `workflow_author` uploaded a workflow for.
fn team() -> Team {
    let server = TestServer::start();
    let requester = server.operator_session("req", &["operator", "approver"]);
    let builder = server.operator_session("bld", &["builder", "approver"]);
    let workflow_author = server.operator_session("wfl", &["builder", "approver"]);
    let approver = server.operator_session("apr", &["approver"]);
    server.add_bot_as(
        &builder.1,
        "ledger-bot",
        "req@example.com",
        "apr@example.com",
    );
    let (status, body) = server.call_as(
        &workflow_author.1,
        "POST",
        "/v1/bots/ledger-bot/workflows",
        Some(json!({"name": "Main.xaml", "content": "<Activity />", "summary": "first version"})),
    );
    assert_eq!(status, 201, "{body}");
    Team {
        server,
        requester,
        builder,
        workflow_author,
        approver,
    }
}

fn request(team: &Team) -> String {
    let (status, body) = team.server.call_as(
        &team.requester.1,
        "POST",
        "/v1/requests",
        Some(json!({"bot": "ledger-bot", "privilege": "sap:finance:write", "justification": "month-end close"})),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["status"], "pending");
    body["id"].as_str().unwrap().to_string()
}

fn decide(team: &Team, token: &str, id: &str, decision: &str) -> (u16, Value) {
    team.server.call_as(
        token,
        "POST",
        &format!("/v1/requests/{id}/{decision}"),
        Some(json!({})),
    )
}

#[test]
fn self_approval_refused_and_audited() {
    let team = team();
    let id = request(&team);
    let (status, answer) = decide(&team, &team.requester.1, &id, "approve");
    assert_eq!(status, 403, "{answer}");
    assert_eq!(answer["error"]["code"], "sod_self_approval");

    let entries = team.server.audit(&format!(
        "action=request.approve&actor={}",
        team.requester.0
    ));
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(entries[0]["outcome"], "denied");
    assert_eq!(entries[0]["target"], id.as_str());
    let (_, pending) = team.server.call("GET", "/v1/requests?status=pending", None);
    assert_eq!(
        pending.as_array().unwrap().len(),
        1,
        "the request stays pending"
    );
}

#[test]
fn builder_approval_refused_and_audited() {
    let team = team();
    let id = request(&team);
    for (who, label) in [
        (&team.builder, "registered the bot"),
        (&team.workflow_author, "uploaded a workflow"),
    ] {
        let (status, answer) = decide(&team, &who.1, &id, "approve");
        assert_eq!(status, 403, "{label}: {answer}");
        assert_eq!(
            answer["error"]["code"], "sod_builder_approval",
            "{label}: {answer}"
        );
        let entries = team
            .server
            .audit(&format!("action=request.approve&actor={}", who.0));
        assert_eq!(entries.len(), 1, "{label}: {entries:#?}");
        assert_eq!(entries[0]["outcome"], "denied", "{label}");
        assert!(
            !entries[0]["bot"].is_null(),
            "{label}: the refusal names the bot"
        );
    }
}

#[test]
fn different_approver_succeeds() {
    let team = team();
    let id = request(&team);
    let (status, approved) = decide(&team, &team.approver.1, &id, "approve");
    assert_eq!(status, 200, "{approved}");
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["decided_by"], team.approver.0.as_str());

    let (status, again) = decide(&team, &team.approver.1, &id, "deny");
    assert_eq!(status, 409, "{again}");
    assert_eq!(again["error"]["code"], "already_decided");

    let entries = team.server.audit("action=request.approve");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["outcome"], "success");
    assert_eq!(entries[0]["actor"], team.approver.0.as_str());
}

#[test]
fn approval_needs_approver_role() {
    let team = team();
    let id = request(&team);
    let (status, answer) = decide(&team, &team.server.root_token, &id, "approve");
    assert_eq!(status, 403, "root is an admin, not an approver: {answer}");
    assert_eq!(answer["error"]["code"], "forbidden");
    let (status, answer) = team.server.call_as(
        &team.approver.1,
        "POST",
        "/v1/requests/not-an-id/approve",
        Some(json!({})),
    );
    assert_eq!(status, 400, "{answer}");
    let bot_id = team.server.call("GET", "/v1/bots/ledger-bot", None).1["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, answer) = team.server.call_as(
        &team.approver.1,
        "POST",
        &format!("/v1/requests/{bot_id}/approve"),
        Some(json!({})),
    );
    assert_eq!(status, 400, "a bot id where a request id belongs: {answer}");
}

#[test]
fn cli_request_approve_and_refusals() {
    let team = team();
    let server = &team.server;
    let out = server.cli_as(
        &team.requester.1,
        &[
            "request",
            "create",
            "--bot",
            "ledger-bot",
            "--privilege",
            "sap:finance:write",
            "--justification",
            "month-end close",
            "-o",
            "json",
        ],
    );
    let created: Value = serde_json::from_str(&expect_exit(&out, 0)).unwrap();
    let id = created["id"].as_str().unwrap();

    let out = server.cli_as(&team.requester.1, &["request", "approve", id]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sod_self_approval"));
    let out = server.cli_as(&team.builder.1, &["request", "approve", id]);
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sod_builder_approval"));

    let out = server.cli_as(
        &team.approver.1,
        &[
            "request",
            "approve",
            id,
            "--note",
            "checked with finance",
            "-o",
            "json",
        ],
    );
    let approved: Value = serde_json::from_str(&expect_exit(&out, 0)).unwrap();
    assert_eq!(approved["status"], "approved");

    let out = server.cli(&["audit", "query", "--action", "request.", "-o", "json"]);
    let entries: Value = serde_json::from_str(&expect_exit(&out, 0)).unwrap();
    let outcomes: Vec<(&str, &str)> = entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap(),
                e["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("request.create", "success"),
            ("request.approve", "denied"),
            ("request.approve", "denied"),
            ("request.approve", "success"),
        ]
    );
}
