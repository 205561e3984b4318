//! Activity ingestion, alerts and scanner findings through the real server.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod common;

use common::TestServer;
use serde_json::{Value, json};

fn event(uid: &str, time: &str, operation: &str, service: &str, ip: &str) -> Value {
    json!({
        "uid": uid, "time": time, "class": "api_activity",
        "actor": {"uid": "svc-rpa-invoice", "kind": "iam_user"},
        "operation": operation, "service": service, "status": "success",
        "src_ip": ip, "source": "cloudtrail",
    })
}

/// Three weeks of a bot calling S3 ten times an hour in office hours, then
/// one night hour of 150 IAM calls from a new address.
fn estate_lines() -> String {
    let start = time::macros::datetime!(2026-09-07 00:00 UTC);
    let mut lines = Vec::new();
    for day in 0..21 {
        let date = start + time::Duration::days(day);
        if date.weekday().number_days_from_monday() >= 5 {
            continue;
        }
        for hour in 9..17 {
            for call in 0..10 {
                let at = date + time::Duration::hours(hour) + time::Duration::minutes(call * 5);
                let uid = format!("normal-{day}-{hour}-{call}");
                lines.push(event(
                    &uid,
                    &ward_core::clock::format_timestamp(at),
                    "GetObject",
                    "s3.amazonaws.com",
                    "10.0.0.5",
                ));
            }
        }
    }
    let night = start + time::Duration::days(22) + time::Duration::hours(3);
    for call in 0..150 {
        let at = night + time::Duration::seconds(call * 10);
        let uid = format!("attack-{call}");
        lines.push(event(
            &uid,
            &ward_core::clock::format_timestamp(at),
            "ListUsers",
            "iam.amazonaws.com",
            "203.0.113.9",
        ));
    }
    lines
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

fn post_ndjson(server: &TestServer, body: String) -> (u16, Value) {
    let response = reqwest::blocking::Client::new()
        .post(format!("{}/v1/events", server.addr))
        .bearer_auth(&server.root_token)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap())
}

#[test]
fn ingestion_is_idempotent_and_raises_alerts() {
    let mut server = TestServer::start();
    let lines = estate_lines();
    let (status, summary) = post_ndjson(&server, format!("{lines}\nnot json\n"));
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        summary["rejected"].as_array().unwrap().len(),
        1,
        "{summary}"
    );
    let bad_line = summary["rejected"][0]["line"].as_u64().unwrap();
    assert_eq!(bad_line as usize, lines.lines().count() + 1);
    assert_eq!(summary["duplicates"], 0);

    let (status, alerts) = server.call("GET", "/v1/alerts?identity=svc-rpa-invoice", None);
    assert_eq!(status, 200);
    let alerts = alerts.as_array().unwrap().clone();
    assert!(!alerts.is_empty(), "the night burst raised no alert");
    assert!(alerts[0]["score"].as_u64().unwrap() > 50, "{}", alerts[0]);

    server.restart();
    let (status, summary) = post_ndjson(&server, lines);
    assert_eq!(status, 200);
    assert_eq!(summary["accepted"], 0, "{summary}");
    assert_eq!(summary["alerts"], 0, "{summary}");
    let (_, after) = server.call("GET", "/v1/alerts?identity=svc-rpa-invoice", None);
    assert_eq!(after.as_array().unwrap().len(), alerts.len());

    let id = alerts[0]["id"].as_str().unwrap();
    let (status, decided) = server.call(
        "POST",
        &format!("/v1/alerts/{id}/acknowledge"),
        Some(json!({"note": "seen"})),
    );
    assert_eq!(status, 200, "{decided}");
    assert_eq!(decided["status"], "acknowledged");
    let (status, ocsf) = server.call("GET", &format!("/v1/alerts/{id}/ocsf"), None);
    assert_eq!(status, 200);
    assert_eq!(ocsf["class_uid"], 2004, "{ocsf}");
}

#[test]
fn ward_activity_feeds_detection() {
    let server = TestServer::start();
    let (status, _) = server.call(
        "POST",
        "/v1/people",
        Some(json!({"name": "Ana", "email": "ana@example.com"})),
    );
    assert_eq!(status, 201);
    let (status, _) = server.call_as("wrd_not_a_token", "GET", "/v1/bots", None);
    assert_eq!(status, 401);
    let mut events = Value::Null;
    for _ in 0..100 {
        let (_, listed) = server.call("GET", "/v1/events?source=ward", None);
        if listed
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["operation"] == "auth.rejected"))
        {
            events = listed;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let events = events
        .as_array()
        .expect("no Ward events were ingested from the audit log");
    assert!(
        events
            .iter()
            .any(|e| e["operation"] == "auth.rejected" && e["failure"] == "auth_failed"),
        "{events:?}"
    );
}

#[test]
fn findings_link_to_the_bot_with_the_workflow() {
    let server = TestServer::start();
    for (name, email) in [("Ana", "ana@example.com"), ("Bo", "bo@example.com")] {
        server.call(
            "POST",
            "/v1/people",
            Some(json!({"name": name, "email": email})),
        );
    }
    let (status, _) = server.call("POST", "/v1/bots", Some(json!({
        "name": "invoice-bot", "purpose": "Posts supplier invoices into SAP.", "owner": "ana@example.com",
        "backup_owner": "bo@example.com", "platform": "uipath"})));
    assert_eq!(status, 201);
    let (status, version) = server.call(
        "POST",
        "/v1/bots/invoice-bot/workflows",
        Some(json!({
        "name": "Main.xaml", "content": "<Activity>x</Activity>", "summary": "first version"})),
    );
    assert_eq!(status, 201, "{version}");
    let sha = version["content_sha256"].as_str().unwrap();

    let finding = json!({"rule_id": "generic-password", "file": "proj/Main.xaml", "line": 3, "fingerprint": "fp-1",
                         "file_sha256": sha, "file_name": "Main.xaml"});
    let (status, summary) = server.call(
        "POST",
        "/v1/findings",
        Some(json!({"scanner": "ward-scan", "findings": [finding]})),
    );
    assert_eq!(status, 201, "{summary}");
    assert_eq!(summary["linked"], 1);
    let (_, listed) = server.call("GET", "/v1/findings?bot=invoice-bot", None);
    assert_eq!(listed.as_array().unwrap().len(), 1);

    let leaky = json!({"rule_id": "generic-password", "file": "a.ps1", "fingerprint": "fp-2", "secret": "Fake-Passw0rd-77"});
    let (status, body) = server.call("POST", "/v1/findings", Some(json!({"findings": [leaky]})));
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "findings[0].secret");
    assert!(!body.to_string().contains("Fake-Passw0rd-77"));
}
