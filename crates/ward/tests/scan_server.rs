//! `ward scan --report-to` against a real `ward serve --dev` process: the server
//! stores the redacted findings and links them to the bot whose registered
//! workflow has the scanned file's content.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod common;

use std::process::Command;

use common::{TestServer, ward_bin};
use serde_json::json;

const WORKFLOW: &str = r#"<Activity x:Class="Main"><ucas:Login DisplayName="SAP Login" Password="Server-Test-Pw-9" Username="svc" /></Activity>"#;

#[test]
fn report_to_server_links_bot() {
    let server = TestServer::start();
    for (name, email) in [("Ana", "ana@example.com"), ("Bo", "bo@example.com")] {
        let (status, body) = server.call(
            "POST",
            "/v1/people",
            Some(json!({"name": name, "email": email})),
        );
        assert_eq!(status, 201, "{body}");
    }
    let (status, body) = server.call(
        "POST",
        "/v1/bots",
        Some(json!({"name": "invoice-bot", "purpose": "Posts supplier invoices into SAP.",
                    "owner": "ana@example.com", "backup_owner": "bo@example.com", "platform": "uipath"})),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = server.call(
        "POST",
        "/v1/bots/invoice-bot/workflows",
        Some(json!({"name": "Main.xaml", "content": WORKFLOW, "summary": "first version"})),
    );
    assert_eq!(status, 201, "{body}");

    let project = tempfile::tempdir().unwrap();
    std::fs::write(project.path().join("Main.xaml"), WORKFLOW).unwrap();
    std::fs::write(
        project.path().join("deploy.ps1"),
        "$password = \"Unlinked-Script-Pw-4\"\n",
    )
    .unwrap();
    let output = Command::new(ward_bin())
        .args([
            "scan",
            project.path().to_str().unwrap(),
            "--report-to",
            &server.addr,
            "--show-secrets",
        ])
        .env("WARD_TOKEN", &server.root_token)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("2 stored, 1 linked"), "{stderr}");

    let (status, listed) = server.call("GET", "/v1/findings?bot=invoice-bot", None);
    assert_eq!(status, 200, "{listed}");
    let findings = listed.as_array().unwrap();
    assert_eq!(findings.len(), 1, "{listed}");
    let text = listed.to_string();
    assert!(text.contains("xml-credential-attribute"), "{text}");
    assert!(
        !text.contains("Server-Test-Pw-9"),
        "the server stored a secret: {text}"
    );
}
