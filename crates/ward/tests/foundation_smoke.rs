//! A first end-to-end check of the server foundation through HTTP and the CLI.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod common;

use common::{TestServer, expect_exit};
use serde_json::json;

#[test]
fn bot_registration_and_suspension() {
    let server = TestServer::start();
    for (name, email) in [
        ("Ana Silva", "ana@example.com"),
        ("Bo Chen", "bo@example.com"),
    ] {
        let (status, body) = server.call(
            "POST",
            "/v1/people",
            Some(json!({"name": name, "email": email})),
        );
        assert_eq!(status, 201, "{body}");
    }
    let out = server.cli(&[
        "bot",
        "create",
        "--name",
        "invoice-bot",
        "--purpose",
        "Posts supplier invoices into SAP.",
        "--owner",
        "ana@example.com",
        "--backup-owner",
        "bo@example.com",
        "--platform",
        "uipath",
        "-o",
        "json",
    ]);
    let bot: serde_json::Value = serde_json::from_str(&expect_exit(&out, 0)).unwrap();
    assert!(bot["id"].as_str().unwrap().starts_with("bot_"));

    let (status, body) = server.call(
        "POST",
        "/v1/bots/invoice-bot/suspend",
        Some(json!({"reason": "test"})),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "suspended");
    let (status, body) = server.call(
        "POST",
        "/v1/bots/invoice-bot/suspend",
        Some(json!({"reason": "again"})),
    );
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["error"]["code"], "transition_not_allowed");
}

#[test]
fn dev_restart_replaces_root_token() {
    let mut server = TestServer::start();
    let old_token = server.root_token.clone();
    server.root_token = format!("{old_token}_next");
    server.restart();

    let (status, _) = server.call_as(&old_token, "GET", "/v1/people", None);
    assert_eq!(status, 401, "the earlier root token still works");
    let (status, body) = server.call("GET", "/v1/people", None);
    assert_eq!(status, 200, "{body}");
}
