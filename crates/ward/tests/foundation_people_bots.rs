//! Registering people, bots and workflow versions through the real server:
//! every rejected input, the defaults, and the CLI.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod common;

use common::{TestServer, expect_exit, server_unix_time};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

fn parse_time(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(value.as_str().unwrap(), &Rfc3339).unwrap()
}

/// A server with two active people, one who has left, and one bot.
fn server_with_people() -> (TestServer, String, String, String) {
    let server = TestServer::start();
    let ana = server.add_person("Ana Silva", "ana@example.com");
    let bo = server.add_person("Bo Chen", "bo@example.com");
    let cy = server.add_person("Cy Left", "cy@example.com");
    let (status, body) = server.call("POST", &format!("/v1/people/{cy}/leave"), None);
    assert_eq!(status, 200, "{body}");
    server.add_bot("existing-bot", "ana@example.com", "bo@example.com");
    (server, ana, bo, cy)
}

fn valid_bot() -> Value {
    json!({
        "name": "ledger-bot",
        "purpose": "Posts supplier invoices into the ledger.",
        "owner": "ana@example.com",
        "backup_owner": "bo@example.com",
        "platform": "uipath",
    })
}

fn with(field: &str, value: Value) -> Value {
    let mut body = valid_bot();
    body[field] = value;
    body
}

fn without(field: &str) -> Value {
    let mut body = valid_bot();
    body.as_object_mut().unwrap().remove(field);
    body
}

#[test]
fn bot_create_rejects_each_invalid_input() {
    let (server, ana, _bo, cy) = server_with_people();
    let bot_id = server.call("GET", "/v1/bots/existing-bot", None).1["id"]
        .as_str()
        .unwrap()
        .to_string();
    let now =
        OffsetDateTime::from_unix_timestamp(i64::try_from(server_unix_time(&server)).unwrap())
            .unwrap();
    let too_far = (now + time::Duration::days(400)).date().to_string();
    let yesterday = (now - time::Duration::days(1)).date().to_string();

    // (case, body, status, code, field)
    let cases: Vec<(&str, Value, u16, &str, &str)> = vec![
        (
            "missing name",
            without("name"),
            400,
            "missing_field",
            "name",
        ),
        (
            "missing purpose",
            without("purpose"),
            400,
            "missing_field",
            "purpose",
        ),
        (
            "missing owner",
            without("owner"),
            400,
            "missing_field",
            "owner",
        ),
        (
            "missing backup owner",
            without("backup_owner"),
            400,
            "missing_field",
            "backup_owner",
        ),
        (
            "missing platform",
            without("platform"),
            400,
            "missing_field",
            "platform",
        ),
        (
            "blank name",
            with("name", json!("  ")),
            400,
            "missing_field",
            "name",
        ),
        (
            "null platform",
            with("platform", Value::Null),
            400,
            "missing_field",
            "platform",
        ),
        (
            "bad name",
            with("name", json!("Ledger Bot")),
            400,
            "invalid_field",
            "name",
        ),
        (
            "short purpose",
            with("purpose", json!("Invoices")),
            400,
            "invalid_field",
            "purpose",
        ),
        (
            "two sentences",
            with("purpose", json!("Posts invoices. Then it emails the team.")),
            400,
            "invalid_field",
            "purpose",
        ),
        (
            "bad platform",
            with("platform", json!("sap")),
            400,
            "invalid_field",
            "platform",
        ),
        (
            "platform case",
            with("platform", json!("UiPath")),
            400,
            "invalid_field",
            "platform",
        ),
        (
            "same owner twice",
            with("backup_owner", json!("ana@example.com")),
            400,
            "invalid_field",
            "backup_owner",
        ),
        (
            "same owner by id and email",
            with("backup_owner", json!(ana)),
            400,
            "invalid_field",
            "backup_owner",
        ),
        (
            "owner has left",
            with("owner", json!(cy)),
            400,
            "invalid_field",
            "owner",
        ),
        (
            "backup owner has left",
            with("backup_owner", json!("cy@example.com")),
            400,
            "invalid_field",
            "backup_owner",
        ),
        (
            "unknown owner",
            with("owner", json!("nobody@example.com")),
            400,
            "invalid_field",
            "owner",
        ),
        (
            "bot id as owner",
            with("owner", json!(bot_id)),
            400,
            "invalid_field",
            "owner",
        ),
        (
            "review too far",
            with("review_by", json!(too_far)),
            400,
            "invalid_field",
            "review_by",
        ),
        (
            "review in the past",
            with("review_by", json!(yesterday)),
            400,
            "invalid_field",
            "review_by",
        ),
        (
            "review not a date",
            with("review_by", json!("next week")),
            400,
            "invalid_field",
            "review_by",
        ),
        (
            "unknown field",
            with("nickname", json!("x")),
            400,
            "invalid_field",
            "nickname",
        ),
        (
            "wrong type",
            with("name", json!(42)),
            400,
            "invalid_field",
            "name",
        ),
        (
            "another bot's id as name",
            with("name", json!(bot_id)),
            400,
            "invalid_field",
            "name",
        ),
        (
            "duplicate name",
            with("name", json!("existing-bot")),
            409,
            "duplicate",
            "name",
        ),
    ];
    for (case, body, status, code, field) in cases {
        let (got, answer) = server.call("POST", "/v1/bots", Some(body));
        assert_eq!(got, status, "{case}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{case}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{case}: {answer}");
        assert!(
            !answer["error"]["message"].as_str().unwrap().is_empty(),
            "{case}: {answer}"
        );
    }
    let (status, bots) = server.call("GET", "/v1/bots", None);
    assert_eq!(status, 200);
    assert_eq!(
        bots.as_array().unwrap().len(),
        1,
        "no rejected bot was stored: {bots}"
    );
}

#[test]
fn bot_create_rejects_malformed_json() {
    let server = TestServer::start();
    let client = reqwest::blocking::Client::new();
    for (case, raw, code) in [
        ("truncated", "{\"name\": \"ledger-bot\"", "invalid_json"),
        ("not json", "name=ledger-bot", "invalid_json"),
        ("trailing garbage", "{} x", "invalid_json"),
        ("array body", "[1, 2]", "invalid_field"),
    ] {
        let response = client
            .post(format!("{}/v1/bots", server.addr))
            .bearer_auth(&server.root_token)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .unwrap();
        assert_eq!(response.status().as_u16(), 400, "{case}");
        let body: Value = response.json().unwrap();
        assert_eq!(body["error"]["code"], code, "{case}: {body}");
    }
}

#[test]
fn person_id_where_bot_belongs_is_400() {
    let server = TestServer::start();
    let ana = server.add_person("Ana Silva", "ana@example.com");
    server.add_person("Bo Chen", "bo@example.com");
    server.add_bot("ledger-bot", "ana@example.com", "bo@example.com");
    for (method, path, body) in [
        ("GET", format!("/v1/bots/{ana}"), None),
        (
            "POST",
            format!("/v1/bots/{ana}/suspend"),
            Some(json!({"reason": "test"})),
        ),
        ("GET", format!("/v1/bots/{ana}/workflows"), None),
        (
            "POST",
            "/v1/requests".to_string(),
            Some(json!({"bot": ana, "privilege": "sap:write", "justification": "month end"})),
        ),
        ("GET", format!("/v1/audit?bot={ana}"), None),
    ] {
        let (status, answer) = server.call(method, &path, body);
        assert_eq!(status, 400, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["field"], "bot", "{method} {path}: {answer}");
    }
    let (status, _) = server.call("GET", "/v1/bots/no-such-bot", None);
    assert_eq!(status, 404);
}

#[test]
fn bot_create_defaults_review_to_90_days() {
    let server = TestServer::start();
    server.add_person("Ana Silva", "ana@example.com");
    let bo = server.add_person("Bo Chen", "bo@example.com");
    let mut body = valid_bot();
    body["backup_owner"] = json!(bo);
    body["platform"] = json!("blue-prism");
    let (status, bot) = server.call("POST", "/v1/bots", Some(body));
    assert_eq!(status, 201, "{bot}");
    assert!(bot["id"].as_str().unwrap().starts_with("bot_"));
    assert_eq!(bot["state"], "active");
    assert_eq!(bot["platform"], "blue-prism");
    assert_eq!(bot["backup_owner_id"], bo.as_str());
    assert_eq!(bot["review_overdue"], false);
    let review = parse_time(&bot["review_by"]) - parse_time(&bot["created_at"]);
    assert_eq!(review, time::Duration::days(90));

    let entries = server.audit("action=bot.create");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["bot"], bot["id"]);
    assert_eq!(entries[0]["actor"], "root");
}

#[test]
fn bot_review_date_honours_configured_maximum() {
    let server =
        TestServer::start_with(&["--review-max-days", "30", "--review-default-days", "30"]);
    server.add_person("Ana Silva", "ana@example.com");
    server.add_person("Bo Chen", "bo@example.com");
    let now =
        OffsetDateTime::from_unix_timestamp(i64::try_from(server_unix_time(&server)).unwrap())
            .unwrap();
    let in_40_days = (now + time::Duration::days(40)).date().to_string();
    let (status, answer) = server.call(
        "POST",
        "/v1/bots",
        Some(with("review_by", json!(in_40_days))),
    );
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("30 days"),
        "{answer}"
    );
    let in_20_days = (now + time::Duration::days(20)).date().to_string();
    let (status, bot) = server.call(
        "POST",
        "/v1/bots",
        Some(with("review_by", json!(in_20_days))),
    );
    assert_eq!(status, 201, "{bot}");
    assert!(
        bot["review_by"].as_str().unwrap().starts_with(&in_20_days),
        "{bot}"
    );
}

#[test]
fn person_add_rejects_bad_input() {
    let server = TestServer::start();
    server.add_person("Ana Silva", "ana@example.com");
    for (case, body, status, code, field) in [
        (
            "missing email",
            json!({"name": "X"}),
            400,
            "missing_field",
            "email",
        ),
        (
            "missing name",
            json!({"email": "x@example.com"}),
            400,
            "missing_field",
            "name",
        ),
        (
            "bad email",
            json!({"name": "X", "email": "not-an-email"}),
            400,
            "invalid_field",
            "email",
        ),
        (
            "duplicate email",
            json!({"name": "X", "email": "ANA@example.com"}),
            409,
            "duplicate",
            "email",
        ),
    ] {
        let (got, answer) = server.call("POST", "/v1/people", Some(body));
        assert_eq!(got, status, "{case}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{case}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{case}: {answer}");
    }
}

#[test]
fn cli_person_add_and_bot_create() {
    let server = TestServer::start();
    for (name, email) in [
        ("Ana Silva", "ana@example.com"),
        ("Bo Chen", "bo@example.com"),
    ] {
        let out = server.cli(&[
            "person", "add", "--name", name, "--email", email, "-o", "json",
        ]);
        let person: Value = serde_json::from_str(&expect_exit(&out, 0)).unwrap();
        assert!(person["id"].as_str().unwrap().starts_with("per_"));
    }
    let args = [
        "bot",
        "create",
        "--name",
        "ledger-bot",
        "--purpose",
        "Posts supplier invoices into the ledger.",
        "--owner",
        "ana@example.com",
        "--backup-owner",
        "bo@example.com",
        "--platform",
        "power-automate",
    ];
    let table = expect_exit(&server.cli(&args), 0);
    assert!(table.contains("ledger-bot"), "{table}");
    assert!(table.contains("power-automate"), "{table}");

    let out = server.cli(&args);
    assert_ne!(out.status.code(), Some(0), "a duplicate must fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already exists"), "{stderr}");

    let mut bad = args.to_vec();
    bad[3] = "other-bot";
    bad[11] = "sap";
    let out = server.cli(&bad);
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown platform `sap`"), "{stderr}");

    let listed = expect_exit(&server.cli(&["bot", "list", "-o", "json"]), 0);
    let bots: Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(bots.as_array().unwrap().len(), 1);
}

fn upload(server: &TestServer, bot: &str, body: Value) -> (u16, Value) {
    server.call("POST", &format!("/v1/bots/{bot}/workflows"), Some(body))
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn workflow_versions_record_hash_author_time() {
    let server = TestServer::start();
    server.add_person("Ana Silva", "ana@example.com");
    server.add_person("Bo Chen", "bo@example.com");
    server.add_bot("ledger-bot", "ana@example.com", "bo@example.com");

    let first = "<Activity x:Class=\"Main\" />";
    let (status, v1) = upload(
        &server,
        "ledger-bot",
        json!({"name": "Main.xaml", "content": first, "summary": "first version"}),
    );
    assert_eq!(status, 201, "{v1}");
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["content_sha256"], sha256_hex(first.as_bytes()));
    assert_eq!(v1["changed_by"], "root");
    let at = parse_time(&v1["changed_at"]).unix_timestamp();
    let server_now = i64::try_from(server_unix_time(&server)).unwrap();
    assert!(
        (server_now - at).abs() < 60,
        "changed_at {at} vs server time {server_now}"
    );

    let binary: Vec<u8> = vec![0x50, 0x4b, 0x03, 0x04, 0xff, 0x00, 0x80];
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&binary);
    let (status, v2) = upload(
        &server,
        "ledger-bot",
        json!({"name": "Main.xaml", "content_base64": encoded, "summary": "packed"}),
    );
    assert_eq!(status, 201, "{v2}");
    assert_eq!(v2["version"], 2);
    assert_eq!(v2["content_sha256"], sha256_hex(&binary));

    let (status, same) = upload(
        &server,
        "ledger-bot",
        json!({"name": "Main.xaml", "content_base64": encoded, "summary": "again"}),
    );
    assert_eq!(status, 409, "{same}");
    for (case, body, field) in [
        (
            "no content",
            json!({"name": "Main.xaml", "summary": "x"}),
            "content",
        ),
        (
            "no summary",
            json!({"name": "Main.xaml", "content": "x"}),
            "summary",
        ),
        (
            "bad base64",
            json!({"name": "Main.xaml", "content_base64": "***", "summary": "x"}),
            "content_base64",
        ),
        (
            "path in name",
            json!({"name": "../Main.xaml", "content": "x", "summary": "x"}),
            "name",
        ),
    ] {
        let (status, answer) = upload(&server, "ledger-bot", body);
        assert_eq!(status, 400, "{case}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{case}: {answer}");
    }

    let (status, versions) = server.call("GET", "/v1/bots/ledger-bot/workflows", None);
    assert_eq!(status, 200);
    assert_eq!(versions.as_array().unwrap().len(), 2, "{versions}");
    let entries = server.audit("bot=ledger-bot&action=workflow.upload");
    assert_eq!(entries.len(), 2);
    let details: Value = serde_json::from_str(entries[1]["details"].as_str().unwrap()).unwrap();
    assert_eq!(details["sha256"], v2["content_sha256"]);
    assert_eq!(details["previous_sha256"], v1["content_sha256"]);
}

/// Starts a server whose working window is `hours` on every day of the week.
fn server_with_hours(hours: &str) -> TestServer {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ward.toml");
    std::fs::write(&config, "working_days = \"mon-sun\"\n").unwrap();
    let config = config.to_str().unwrap().to_string();
    // The server reads the file once at start, so `dir` may go afterwards.
    TestServer::start_with(&["--working-hours", hours, "--config", &config])
}

fn flag_of_upload(server: &TestServer) -> Value {
    server.add_person("Ana Silva", "ana@example.com");
    server.add_person("Bo Chen", "bo@example.com");
    server.add_bot("ledger-bot", "ana@example.com", "bo@example.com");
    let (status, version) = upload(
        server,
        "ledger-bot",
        json!({"name": "run.ps1", "content": "Get-Date", "summary": "first"}),
    );
    assert_eq!(status, 201, "{version}");
    version["outside_working_hours"].clone()
}

#[test]
fn workflow_change_outside_hours_flagged() {
    let server = server_with_hours("00:00-00:01");
    let minute_of_day = server_unix_time(&server) % 86_400 / 60;
    if minute_of_day < 2 {
        server.advance_clock("5m");
    }
    assert_eq!(flag_of_upload(&server), true);
    let entries = server.audit("action=workflow.upload");
    let details: Value = serde_json::from_str(entries[0]["details"].as_str().unwrap()).unwrap();
    assert_eq!(details["outside_working_hours"], true);
}

#[test]
fn workflow_change_inside_hours_not_flagged() {
    let server = server_with_hours("00:00-24:00");
    assert_eq!(flag_of_upload(&server), false);
}

#[test]
fn workflow_upload_accepts_large_packages() {
    let server = TestServer::start();
    server.add_person("Ana Silva", "ana@example.com");
    server.add_person("Bo Chen", "bo@example.com");
    server.add_bot("ledger-bot", "ana@example.com", "bo@example.com");
    // 3 MiB of binary content is over axum's 2 MB default for extractors but
    // well under the server's 16 MiB request limit.
    let package: Vec<u8> = (0..3 * 1024 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&package);
    let (status, version) = upload(
        &server,
        "ledger-bot",
        json!({"name": "Ledger.nupkg", "content_base64": encoded, "summary": "release 2"}),
    );
    assert_eq!(status, 201, "{version}");
    assert_eq!(version["size_bytes"], package.len());
    assert_eq!(version["content_sha256"], sha256_hex(&package));
}

#[test]
fn oversized_body_rejected_with_413() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("ward.toml");
    std::fs::write(&config, "max_body_bytes = 65536\n").unwrap();
    let server = TestServer::start_with(&["--config", config.to_str().unwrap()]);
    server.add_person("Ana Silva", "ana@example.com");
    server.add_person("Bo Chen", "bo@example.com");
    server.add_bot("ledger-bot", "ana@example.com", "bo@example.com");
    let (status, _) = upload(
        &server,
        "ledger-bot",
        json!({"name": "big.txt", "content": "x".repeat(100_000), "summary": "too big"}),
    );
    assert_eq!(status, 413);
    let (status, versions) = server.call("GET", "/v1/bots/ledger-bot/workflows", None);
    assert_eq!(status, 200);
    assert_eq!(versions, json!([]));
}
