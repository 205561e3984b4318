//! Every log event emitted during rotations and dynamic-credential operations,
//! at TRACE level and from every crate (sqlx, reqwest and hyper included),
//! is free of secret values.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use secrecy::{ExposeSecret, SecretString};
use ward_connect::{
    Connector, DynamicPostgresConfig, LeaseRequest, PasswordPolicy, PostgresConfig, WebhookConfig,
};
use ward_core::id::BotId;
use ward_core::{Clock, ManualClock};

use common::*;

/// A log sink that keeps every formatted line.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

const SIGNING_KEY: &str = "LogTestSigningKey-0123456789abcdef0123";
const ADMIN_PASSWORD: &str = "LogTestAdminPassw0rd";

#[tokio::test]
async fn no_secret_in_any_log_event() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init()
        .unwrap();
    tracing::info!("capture started");
    let mut secrets: Vec<String> = vec![SIGNING_KEY.to_string(), ADMIN_PASSWORD.to_string()];

    // Webhook: the receiver always responds 503, so Ward retries, then fails.
    let app = Router::new().route(
        "/rotate",
        post(|| async { StatusCode::SERVICE_UNAVAILABLE }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/rotate", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let webhook = WebhookConfig {
        url,
        signing_key: SecretString::from(SIGNING_KEY),
        timeout_ms: 2_000,
        max_attempts: 2,
        backoff_ms: 10,
        max_backoff_ms: 10,
    }
    .build()
    .unwrap();
    let webhook_secret = PasswordPolicy::default().generate().unwrap();
    secrets.push(webhook_secret.expose_secret().to_string());
    let err = webhook
        .rotate(&target("svc_app", 2), &webhook_secret)
        .await
        .unwrap_err();
    tracing::warn!(error = %err, "webhook rotation failed");

    if let Some(url) = postgres_url() {
        let parsed = url::Url::parse(&url).unwrap();
        let admin_url = match parsed.password() {
            Some(password) => {
                secrets.push(password.to_string());
                url.clone()
            }
            None => url_with_password(&url, ADMIN_PASSWORD),
        };

        let role = unique("wt_logs");
        let first = PasswordPolicy::default().generate().unwrap();
        create_login_role(&url, &role, &first).await;
        let connector = PostgresConfig {
            admin_url: SecretString::from(admin_url.clone()),
            connect_timeout_ms: 5_000,
            verify_database: None,
        }
        .build()
        .unwrap();
        let second = PasswordPolicy::default().generate().unwrap();
        secrets.push(second.expose_secret().to_string());
        connector.rotate(&target(&role, 2), &second).await.unwrap();
        let stale = connector
            .verify(&target(&role, 1), &first)
            .await
            .unwrap_err();
        tracing::warn!(error = %stale, "verify with the old password failed");
        drop_role(&url, &role).await;

        let issuer = DynamicPostgresConfig {
            admin_url: SecretString::from(admin_url),
            role_prefix: unique("wl").replace('_', ""),
            default_ttl: "1h".to_string(),
            max_ttl: "1h".to_string(),
            grants: Vec::new(),
            password: PasswordPolicy::default(),
            connect_timeout_ms: 5_000,
        }
        .build()
        .unwrap();
        let request = LeaseRequest {
            bot: BotId::generate(),
            bot_name: "logs".to_string(),
            ttl: None,
        };
        let credential = issuer
            .issue(&request, ManualClock::new().now())
            .await
            .unwrap();
        secrets.push(credential.password.expose_secret().to_string());
        issuer.revoke(&credential.username).await.unwrap();
    }

    let text = captured.text();
    eprintln!("captured {} log lines", text.lines().count());
    assert!(
        text.contains("capture started"),
        "the subscriber captured nothing"
    );
    assert!(
        text.contains("webhook attempt failed"),
        "connector events were not captured"
    );
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret appears in the log:\n{text}"
        );
    }
}
