//! Rotation through the webhook connector, against a receiver in this test
//! on 127.0.0.1: the signed request carries the new secret, the receiver's
//! 2xx promotes it, and a rejection keeps the old version current.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;
mod rotation_support;
mod vault_support;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::TestServer;
use rotation_support::{audit_of, read_secret, write_secret};
use secrecy::SecretString;
use serde_json::{Value, json};
use vault_support::{bot_token, create_bot, grant};

const SIGNING_KEY: &str = "webhook-signing-key-for-tests-0123456789";

/// Requests the receiver got, and the status it responds with.
#[derive(Default)]
struct Received {
    requests: Vec<(HeaderMap, Bytes)>,
    status: u16,
    /// Number of first requests answered with 503 instead of `status`.
    fail_first: usize,
}

type Shared = Arc<Mutex<Received>>;

async fn receive(State(shared): State<Shared>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let mut received = shared.lock().unwrap();
    received.requests.push((headers, body));
    if received.requests.len() <= received.fail_first {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    StatusCode::from_u16(received.status).unwrap()
}

/// Starts the receiver on a free loopback port; returns its URL.
fn start_receiver(shared: Shared) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app = Router::new()
                .route("/rotate", post(receive))
                .with_state(shared);
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{address}/rotate")
}

fn setup(status: u16) -> (TestServer, Shared, String) {
    setup_failing_first(status, 0)
}

fn setup_failing_first(status: u16, fail_first: usize) -> (TestServer, Shared, String) {
    let shared: Shared = Arc::new(Mutex::new(Received {
        requests: Vec::new(),
        status,
        fail_first,
    }));
    let url = start_receiver(shared.clone());
    let server = TestServer::start();
    create_bot(&server, "crm-bot");
    grant(&server, "crm-bot", "crm/*", &["read"]);
    write_secret(
        &server,
        "crm/api",
        json!({"user": "crm-sync", "password": "old-api-password"}),
    );
    let (status, body) = server.call(
        "PUT",
        "/v1/vault/connectors/crm-hook",
        Some(json!({"kind": "webhook", "url": url, "signing_key": SIGNING_KEY, "max_attempts": 1})),
    );
    assert_eq!(status, 200, "{body}");
    assert!(!body.to_string().contains(SIGNING_KEY), "{body}");
    let (status, body) = server.call(
        "PUT",
        "/v1/vault/targets/crm/api",
        Some(json!({"connector": "crm-hook", "account": "crm-sync"})),
    );
    assert_eq!(status, 200, "{body}");
    let token = bot_token(&server, "crm-bot");
    (server, shared, token)
}

#[test]
fn webhook_rotation_sends_signed_secret() {
    let (server, shared, token) = setup(200);

    let (status, body) = server.call("POST", "/v1/vault/rotate", Some(json!({"path": "crm/api"})));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(
        body["receipt"]["verification"],
        json!({"method": "acknowledged", "status": 200})
    );

    let (current, _) = read_secret(&server, &token, "crm/api", None);
    let new_password = current["password"].as_str().unwrap().to_string();
    assert_ne!(new_password, "old-api-password");
    assert_eq!(current["user"], "crm-sync");

    let received = shared.lock().unwrap();
    assert_eq!(received.requests.len(), 1);
    let (headers, raw) = &received.requests[0];
    let signature = headers["x-ward-signature"].to_str().unwrap();
    let expected = ward_connect::webhook::sign(&SecretString::from(SIGNING_KEY), raw);
    assert_eq!(signature, expected);
    let payload: Value = serde_json::from_slice(raw).unwrap();
    assert_eq!(payload["event"], "ward.secret.rotate");
    assert_eq!(payload["account"], "crm-sync");
    assert_eq!(payload["secret_path"], "crm/api");
    assert_eq!(payload["version"], 2);
    assert_eq!(payload["secret"], new_password.as_str());
    assert_eq!(payload["rotation_id"], body["rotation_id"]);
    assert_eq!(
        headers["x-ward-rotation-id"].to_str().unwrap(),
        body["rotation_id"].as_str().unwrap()
    );

    let entries = audit_of(&server, "secret.rotate");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["details"]["connector_kind"], "webhook");
    assert!(
        !serde_json::to_string(&entries)
            .unwrap()
            .contains(&new_password)
    );
    drop(received);

    // `ward secret rotate` goes through the same connector.
    let output = server.cli(&["secret", "rotate", "crm/api", "--output", "json"]);
    let stdout = common::expect_exit(&output, 0);
    let printed: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(printed["version"], 3, "{stdout}");
    assert_eq!(shared.lock().unwrap().requests.len(), 2);
    let (_, version) = read_secret(&server, &token, "crm/api", None);
    assert_eq!(version, 3);
}

#[test]
fn webhook_rejection_keeps_old_version() {
    let (server, shared, token) = setup(400);

    let (status, body) = server.call("POST", "/v1/vault/rotate", Some(json!({"path": "crm/api"})));
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "target_rejected");

    let (current, version) = read_secret(&server, &token, "crm/api", None);
    assert_eq!(version, 1);
    assert_eq!(current["password"], "old-api-password");
    assert_eq!(shared.lock().unwrap().requests.len(), 1);

    let entries = audit_of(&server, "secret.rotate");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["outcome"], "failure");
    assert_eq!(entries[0]["details"]["error_code"], "target_rejected");
    let (status, alerts) = server.call("GET", "/v1/alerts", None);
    assert_eq!(status, 200, "{alerts}");
    let alert_id = entries[0]["details"]["alert"].as_str().unwrap();
    assert!(
        alerts
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == alert_id),
        "{alerts}"
    );
}

#[test]
fn webhook_server_error_restores_old_secret() {
    // The first request gets a 503, which may mean the receiver applied the
    // new secret, so Ward sends the old one again; that request gets a 200.
    let (server, shared, token) = setup_failing_first(200, 1);

    let (status, body) = server.call("POST", "/v1/vault/rotate", Some(json!({"path": "crm/api"})));
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "target_unavailable");

    let received = shared.lock().unwrap();
    assert_eq!(received.requests.len(), 2);
    let first: Value = serde_json::from_slice(&received.requests[0].1).unwrap();
    let second: Value = serde_json::from_slice(&received.requests[1].1).unwrap();
    assert_ne!(first["secret"], "old-api-password");
    assert_eq!(first["version"], 2);
    assert_eq!(second["secret"], "old-api-password");
    assert_eq!(second["version"], 1);
    assert_ne!(second["rotation_id"], first["rotation_id"]);
    drop(received);

    let (current, version) = read_secret(&server, &token, "crm/api", None);
    assert_eq!(version, 1);
    assert_eq!(current["password"], "old-api-password");
    let entries = audit_of(&server, "secret.rotate");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["outcome"], "failure");
    assert_eq!(entries[0]["details"]["restore"], "restored");
    assert_eq!(entries[0]["details"]["kept_pending"], Value::Null);
}

#[test]
fn kept_pending_value_recovered_next_time() {
    // The rotation and the put-back both get a 503, so the target may hold
    // the new secret and Ward keeps it pending. The next rotation first
    // checks it at the receiver, which accepts it, so it is promoted.
    let (server, shared, token) = setup_failing_first(200, 2);

    let (status, body) = server.call("POST", "/v1/vault/rotate", Some(json!({"path": "crm/api"})));
    assert_eq!(status, 502, "{body}");
    let failures = audit_of(&server, "secret.rotate");
    assert_eq!(failures[0]["details"]["restore"], "failed");
    let kept = failures[0]["details"]["kept_pending"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, version) = read_secret(&server, &token, "crm/api", None);
    assert_eq!(version, 1);
    let first: Value = serde_json::from_slice(&shared.lock().unwrap().requests[0].1).unwrap();
    let pending_secret = first["secret"].as_str().unwrap().to_string();

    let (status, body) = server.call("POST", "/v1/vault/rotate", Some(json!({"path": "crm/api"})));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 3);

    let recovered = audit_of(&server, "secret.rotate.recover");
    assert_eq!(recovered.len(), 1, "{recovered:?}");
    assert_eq!(recovered[0]["details"]["pending"], kept.as_str());
    assert_eq!(recovered[0]["details"]["result"], "promoted");
    assert_eq!(recovered[0]["details"]["version"], 2);
    let (promoted, _) = read_secret(&server, &token, "crm/api", Some(2));
    assert_eq!(promoted["password"], pending_secret.as_str());

    let received = shared.lock().unwrap();
    let events: Vec<String> = received
        .requests
        .iter()
        .map(|(_, raw)| {
            serde_json::from_slice::<Value>(raw).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        events,
        [
            "ward.secret.rotate",
            "ward.secret.rotate",
            "ward.secret.verify",
            "ward.secret.rotate"
        ]
    );
}

#[test]
fn connector_survives_restart_and_seal() {
    let (mut server, shared, _) = setup(200);
    server.restart();

    // Sealed after the restart: the encrypted connector cannot be used.
    let (status, body) = server.call("POST", "/v1/vault/rotate", Some(json!({"path": "crm/api"})));
    assert_eq!(status, 503, "{body}");
    assert!(shared.lock().unwrap().requests.is_empty());

    server.unseal_dev_vault();
    let (status, body) = server.call("POST", "/v1/vault/rotate", Some(json!({"path": "crm/api"})));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(shared.lock().unwrap().requests.len(), 1);
}

#[test]
fn connector_config_validation() {
    let server = TestServer::start();
    let (status, body) = server.call(
        "PUT",
        "/v1/vault/connectors/bad",
        Some(json!({"kind": "webhook", "url": "http://hooks.example/rotate", "signing_key": SIGNING_KEY})),
    );
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "url");
    assert!(!body.to_string().contains(SIGNING_KEY));

    let (status, body) = server.call(
        "PUT",
        "/v1/vault/connectors/bad",
        Some(json!({"kind": "ldap"})),
    );
    assert_eq!(status, 400, "{body}");

    let (status, body) = server.call(
        "PUT",
        "/v1/vault/targets/none/here",
        Some(json!({"connector": "missing", "account": "x"})),
    );
    assert_eq!(status, 404, "{body}");
}
