//! The webhook connector against a receiver on 127.0.0.1.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::SecretString;
use sha2::Sha256;
use ward_connect::{Connector, ConnectorError, Verification, WebhookConfig, WebhookConnector};

use common::target;

const SIGNING_KEY: &str = "test-signing-key-0123456789abcdef0123";
const NEW_SECRET: &str = "N3w-Secret-Value'\"; --";

/// The receiver's status for each request, in order, and the requests it received.
#[derive(Default)]
struct Script {
    /// Status per request; 200 once the list is used up.
    statuses: VecDeque<u16>,
    /// Delay before responding to the first request.
    first_delay: Option<Duration>,
    requests: Vec<(HeaderMap, Bytes)>,
}

type Receiver = Arc<Mutex<Script>>;

async fn receive(State(script): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let (status, delay) = {
        let mut script = script.lock().unwrap();
        let delay = if script.requests.is_empty() {
            script.first_delay
        } else {
            None
        };
        script.requests.push((headers, body));
        (script.statuses.pop_front().unwrap_or(200), delay)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    StatusCode::from_u16(status).unwrap()
}

/// Starts a receiver on 127.0.0.1 and returns its URL and script.
async fn start_receiver(statuses: &[u16], first_delay: Option<Duration>) -> (String, Receiver) {
    let script = Arc::new(Mutex::new(Script {
        statuses: statuses.iter().copied().collect(),
        first_delay,
        requests: Vec::new(),
    }));
    let app = Router::new()
        .route("/rotate", post(receive))
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/rotate"), script)
}

fn connector(url: &str, max_attempts: u32, timeout_ms: u64) -> WebhookConnector {
    WebhookConfig {
        url: url.to_string(),
        signing_key: SecretString::from(SIGNING_KEY),
        timeout_ms,
        max_attempts,
        backoff_ms: 10,
        max_backoff_ms: 50,
    }
    .build()
    .unwrap()
}

/// Computes the signature as a receiver would, independently of the crate.
fn expected_signature(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SIGNING_KEY.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn requests(script: &Receiver) -> Vec<(HeaderMap, Bytes)> {
    script.lock().unwrap().requests.clone()
}

fn assert_no_secret(err: &ConnectorError) {
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(NEW_SECRET), "{shown}");
    assert!(!shown.contains(SIGNING_KEY), "{shown}");
}

#[tokio::test]
async fn delivers_signed_body() {
    let (url, script) = start_receiver(&[200], None).await;
    let spec = target("svc_erp", 5);

    let receipt = connector(&url, 3, 2_000)
        .rotate(&spec, &SecretString::from(NEW_SECRET))
        .await
        .unwrap();
    assert_eq!(receipt.attempts, 1);
    assert_eq!(
        receipt.verification,
        Verification::Acknowledged { status: 200 }
    );
    assert_eq!(receipt.rotation_id, spec.rotation_id);

    let seen = requests(&script);
    assert_eq!(seen.len(), 1);
    let (headers, body) = &seen[0];
    assert_eq!(
        headers["x-ward-signature"],
        expected_signature(body).as_str()
    );
    assert_eq!(headers["x-ward-rotation-id"], spec.rotation_id.as_str());
    assert_eq!(headers["content-type"], "application/json");

    let json: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(json["event"], "ward.secret.rotate");
    assert_eq!(json["rotation_id"], spec.rotation_id.as_str());
    assert_eq!(json["secret_path"], "bots/test/svc_erp");
    assert_eq!(json["version"], 5);
    assert_eq!(json["account"], "svc_erp");
    assert_eq!(json["secret"], NEW_SECRET);
    let requested_at = json["requested_at"].as_str().unwrap();
    let parsed =
        time::OffsetDateTime::parse(requested_at, &time::format_description::well_known::Rfc3339)
            .unwrap();
    assert_eq!(parsed, spec.requested_at);
}

#[tokio::test]
async fn tampered_body_fails_signature() {
    let (url, script) = start_receiver(&[200], None).await;
    connector(&url, 1, 2_000)
        .rotate(&target("svc_erp", 2), &SecretString::from(NEW_SECRET))
        .await
        .unwrap();
    let (headers, body) = requests(&script).remove(0);
    let mut tampered = body.to_vec();
    tampered.extend_from_slice(b" ");
    assert_ne!(
        headers["x-ward-signature"],
        expected_signature(&tampered).as_str()
    );
}

#[tokio::test]
async fn retries_after_500_then_succeeds() {
    let (url, script) = start_receiver(&[500, 200], None).await;
    let receipt = connector(&url, 4, 2_000)
        .rotate(&target("svc_erp", 3), &SecretString::from(NEW_SECRET))
        .await
        .unwrap();
    assert_eq!(receipt.attempts, 2);
    let seen = requests(&script);
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].1, seen[1].1, "a retry must send the same body");
    assert_eq!(seen[0].0["x-ward-signature"], seen[1].0["x-ward-signature"]);
}

#[tokio::test]
async fn retries_after_timeout() {
    let (url, script) = start_receiver(&[200, 200], Some(Duration::from_secs(3))).await;
    let receipt = connector(&url, 3, 300)
        .rotate(&target("svc_erp", 3), &SecretString::from(NEW_SECRET))
        .await
        .unwrap();
    assert_eq!(receipt.attempts, 2);
    assert_eq!(requests(&script).len(), 2);
}

#[tokio::test]
async fn status_400_is_permanent() {
    let (url, script) = start_receiver(&[400, 200], None).await;
    let spec = target("svc_erp", 3);
    let err = connector(&url, 4, 2_000)
        .rotate(&spec, &SecretString::from(NEW_SECRET))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ConnectorError::Rejected { status: 400, .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), "target_rejected");
    assert!(!err.target_may_have_changed());
    assert!(err.to_string().contains(spec.rotation_id.as_str()));
    assert_no_secret(&err);
    assert_eq!(requests(&script).len(), 1, "a 4xx answer was retried");
}

#[tokio::test]
async fn gives_up_after_max_attempts() {
    let (url, script) = start_receiver(&[503, 502, 500, 200], None).await;
    let err = connector(&url, 3, 2_000)
        .rotate(&target("svc_erp", 3), &SecretString::from(NEW_SECRET))
        .await
        .unwrap_err();
    match &err {
        ConnectorError::Unavailable {
            attempts,
            last,
            maybe_applied,
            ..
        } => {
            assert_eq!(*attempts, 3);
            assert_eq!(last, "HTTP 500");
            assert!(*maybe_applied);
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    assert!(err.target_may_have_changed());
    assert_no_secret(&err);
    assert_eq!(requests(&script).len(), 3);
}

#[tokio::test]
async fn connection_refused_is_not_applied() {
    // Bind, read the port, and close the listener so nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/rotate", listener.local_addr().unwrap());
    drop(listener);
    let err = connector(&url, 2, 1_000)
        .rotate(&target("svc_erp", 3), &SecretString::from(NEW_SECRET))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "target_unavailable");
    assert!(!err.target_may_have_changed(), "{err:?}");
    assert_no_secret(&err);
}

#[tokio::test]
async fn verify_sends_verify_event() {
    let (url, script) = start_receiver(&[204], None).await;
    let verification = connector(&url, 1, 2_000)
        .verify(&target("svc_erp", 3), &SecretString::from(NEW_SECRET))
        .await
        .unwrap();
    assert_eq!(verification, Verification::Acknowledged { status: 204 });
    let (_, body) = requests(&script).remove(0);
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["event"], "ward.secret.verify");
}
