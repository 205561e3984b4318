//! Rotation through an HTTP receiver that applies the new secret itself.
//!
//! Ward POSTs a JSON body signed with HMAC-SHA-256. The body format and the
//! receiver's duties are described in `docs/connectors.md`.

use std::time::Duration;

use async_trait::async_trait;
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use time::format_description::well_known::Rfc3339;

use crate::connector::{Connector, ConnectorKind, RotationReceipt, TargetSpec, Verification};
use crate::error::{ConfigError, ConnectorError, scrub};

/// Header carrying `sha256=<hex HMAC-SHA-256 of the body>`.
pub const SIGNATURE_HEADER: &str = "x-ward-signature";
/// Header carrying the rotation id, for receivers that drop repeats.
pub const ROTATION_ID_HEADER: &str = "x-ward-rotation-id";
/// Event name of a request to set a new secret.
pub const EVENT_ROTATE: &str = "ward.secret.rotate";
/// Event name of a request to confirm the current secret.
pub const EVENT_VERIFY: &str = "ward.secret.verify";
/// Shortest signing key accepted, in bytes.
pub const MIN_SIGNING_KEY_BYTES: usize = 32;

/// Configuration of a webhook connector.
///
/// ```toml
/// kind = "webhook"
/// url = "https://rotator.internal/ward"
/// signing_key = "…at least 32 bytes…"
/// timeout_ms = 10000
/// max_attempts = 4
/// backoff_ms = 500
/// max_backoff_ms = 30000
/// ```
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Receiver URL: https, or http only to a loopback address.
    pub url: String,
    /// Key for the HMAC-SHA-256 signature, shared with the receiver.
    pub signing_key: SecretString,
    /// Time allowed for one request, including reading the response, in
    /// milliseconds.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Requests sent before giving up, the first included.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Wait before the first retry, in milliseconds; doubles on each retry.
    #[serde(default = "default_backoff_ms")]
    pub backoff_ms: u64,
    /// Upper limit of the wait between retries, in milliseconds.
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
}

impl std::fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = url::Url::parse(&self.url)
            .map_or_else(|_| "[unparsed]".to_string(), |url| redact_url(&url));
        f.debug_struct("WebhookConfig")
            .field("url", &url)
            .field("signing_key", &self.signing_key)
            .field("timeout_ms", &self.timeout_ms)
            .field("max_attempts", &self.max_attempts)
            .field("backoff_ms", &self.backoff_ms)
            .field("max_backoff_ms", &self.max_backoff_ms)
            .finish()
    }
}

fn default_timeout_ms() -> u64 {
    10_000
}
fn default_max_attempts() -> u32 {
    4
}
fn default_backoff_ms() -> u64 {
    500
}
fn default_max_backoff_ms() -> u64 {
    30_000
}

impl WebhookConfig {
    /// Validates the configuration and builds the connector.
    pub fn build(&self) -> Result<WebhookConnector, ConfigError> {
        let url = validate_url(&self.url)?;
        if self.signing_key.expose_secret().len() < MIN_SIGNING_KEY_BYTES {
            return Err(ConfigError::new(
                "signing_key",
                format!(
                    "is shorter than {MIN_SIGNING_KEY_BYTES} bytes; generate one with `openssl rand -hex 32`"
                ),
            ));
        }
        if !(100..=300_000).contains(&self.timeout_ms) {
            return Err(ConfigError::new(
                "timeout_ms",
                format!(
                    "{} ms is outside the allowed range of 100 to 300000 ms",
                    self.timeout_ms
                ),
            ));
        }
        if !(1..=10).contains(&self.max_attempts) {
            return Err(ConfigError::new(
                "max_attempts",
                format!(
                    "{} is outside the allowed range of 1 to 10",
                    self.max_attempts
                ),
            ));
        }
        if self.backoff_ms > self.max_backoff_ms {
            return Err(ConfigError::new(
                "backoff_ms",
                format!(
                    "{} ms is larger than max_backoff_ms ({} ms)",
                    self.backoff_ms, self.max_backoff_ms
                ),
            ));
        }
        let timeout = Duration::from_millis(self.timeout_ms);
        // Redirects stay off, because following one would send the secret to a
        // URL that is not configured.
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("ward/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| {
                ConfigError::new(
                    "url",
                    format!("HTTP client could not be built: {}", err.without_url()),
                )
            })?;
        Ok(WebhookConnector {
            redacted_url: redact_url(&url),
            url,
            signing_key: self.signing_key.clone(),
            client,
            timeout,
            max_attempts: self.max_attempts,
            backoff: Duration::from_millis(self.backoff_ms),
            max_backoff: Duration::from_millis(self.max_backoff_ms),
        })
    }
}

fn validate_url(text: &str) -> Result<url::Url, ConfigError> {
    let url = url::Url::parse(text)
        .map_err(|err| ConfigError::new("url", format!("is not a valid URL ({err})")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ConfigError::new(
            "url",
            "contains a user name or password; remove them, the signature authenticates Ward",
        ));
    }
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(ConfigError::new(
            "url",
            "uses http to a non-loopback host, which would send the secret in clear text; use https",
        )),
        other => Err(ConfigError::new(
            "url",
            format!("has the scheme `{other}`; expected https"),
        )),
    }
}

/// Returns the URL without query string or fragment, which may carry tokens.
fn redact_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// The JSON body Ward sends. Field order is fixed, and the signature covers
/// the exact bytes sent.
#[derive(Serialize)]
struct Payload<'a> {
    event: &'static str,
    rotation_id: &'a str,
    secret_path: &'a str,
    version: u64,
    account: &'a str,
    secret: &'a str,
    requested_at: String,
}

/// Sends new secrets to an HTTP receiver.
///
/// Retries timeouts, connection failures and 408, 429 and 5xx responses with
/// exponential backoff. Any other non-2xx response fails at once.
#[derive(Clone)]
pub struct WebhookConnector {
    url: url::Url,
    redacted_url: String,
    signing_key: SecretString,
    client: reqwest::Client,
    timeout: Duration,
    max_attempts: u32,
    backoff: Duration,
    max_backoff: Duration,
}

impl std::fmt::Debug for WebhookConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookConnector")
            .field("url", &self.redacted_url)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .finish_non_exhaustive()
    }
}

/// Outcome of one request.
enum Attempt {
    Accepted(u16),
    Permanent(u16),
    Retry { reason: String, maybe_applied: bool },
}

impl WebhookConnector {
    /// Computes the signature header value for `body`.
    pub fn sign(&self, body: &[u8]) -> String {
        sign(&self.signing_key, body)
    }

    async fn deliver(
        &self,
        event: &'static str,
        target: &TargetSpec,
        secret: &SecretString,
    ) -> Result<(u16, u32), ConnectorError> {
        let requested_at =
            target
                .requested_at
                .format(&Rfc3339)
                .map_err(|err| ConnectorError::InvalidInput {
                    field: "requested_at",
                    reason: format!("cannot be written as RFC 3339: {err}"),
                })?;
        let payload = Payload {
            event,
            rotation_id: target.rotation_id.as_str(),
            secret_path: &target.secret_path,
            version: target.version,
            account: &target.account,
            secret: secret.expose_secret(),
            requested_at,
        };
        // NOTE: the body contains the secret in plain bytes until reqwest
        // drops it, and it is not zeroed.
        let body = serde_json::to_vec(&payload).map_err(|err| ConnectorError::InvalidInput {
            field: "webhook body",
            reason: err.to_string(),
        })?;
        let signature = self.sign(&body);

        let mut maybe_applied = false;
        let mut last = String::new();
        for attempt in 1..=self.max_attempts {
            match self.send_once(&body, &signature, target, secret).await {
                Attempt::Accepted(status) => return Ok((status, attempt)),
                Attempt::Permanent(status) => {
                    tracing::warn!(rotation_id = %target.rotation_id, url = %self.redacted_url, status, event, "webhook rejected the request; not retrying");
                    return Err(ConnectorError::Rejected {
                        url: self.redacted_url.clone(),
                        rotation_id: target.rotation_id.to_string(),
                        status,
                    });
                }
                Attempt::Retry {
                    reason,
                    maybe_applied: applied,
                } => {
                    maybe_applied |= applied;
                    tracing::warn!(rotation_id = %target.rotation_id, url = %self.redacted_url, attempt, max_attempts = self.max_attempts, reason = %reason, event, "webhook attempt failed");
                    last = reason;
                }
            }
            if attempt < self.max_attempts {
                tokio::time::sleep(self.backoff_before(attempt + 1)).await;
            }
        }
        Err(ConnectorError::Unavailable {
            url: self.redacted_url.clone(),
            rotation_id: target.rotation_id.to_string(),
            attempts: self.max_attempts,
            last,
            maybe_applied: maybe_applied && event == EVENT_ROTATE,
        })
    }

    async fn send_once(
        &self,
        body: &[u8],
        signature: &str,
        target: &TargetSpec,
        secret: &SecretString,
    ) -> Attempt {
        let response = self
            .client
            .post(self.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(SIGNATURE_HEADER, signature)
            .header(ROTATION_ID_HEADER, target.rotation_id.as_str())
            .body(body.to_vec())
            .send()
            .await;
        match response {
            Ok(response) => {
                let status = response.status();
                let code = status.as_u16();
                if status.is_success() {
                    Attempt::Accepted(code)
                } else if status.is_server_error() || code == 408 || code == 429 {
                    Attempt::Retry {
                        reason: format!("HTTP {code}"),
                        maybe_applied: status.is_server_error(),
                    }
                } else {
                    Attempt::Permanent(code)
                }
            }
            Err(err) => {
                let sent = !err.is_connect();
                let reason = if err.is_timeout() {
                    format!("timed out after {} ms", self.timeout.as_millis())
                } else {
                    scrub(err.without_url().to_string(), &[secret, &self.signing_key])
                };
                Attempt::Retry {
                    reason,
                    maybe_applied: sent,
                }
            }
        }
    }

    /// Wait before attempt number `attempt` (2 or more): `backoff` doubled
    /// for each earlier retry, capped at `max_backoff`.
    fn backoff_before(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(2).min(20);
        self.backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }
}

/// Computes `sha256=<hex>` of HMAC-SHA-256 over `body` with `key`.
#[expect(
    clippy::expect_used,
    reason = "HMAC accepts keys of any length, so new_from_slice cannot fail"
)]
pub fn sign(key: &SecretString, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.expose_secret().as_bytes())
        .expect("hmac takes any key length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[async_trait]
impl Connector for WebhookConnector {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Webhook
    }

    async fn rotate(
        &self,
        target: &TargetSpec,
        new_secret: &SecretString,
    ) -> Result<RotationReceipt, ConnectorError> {
        let (status, attempts) = self.deliver(EVENT_ROTATE, target, new_secret).await?;
        tracing::info!(rotation_id = %target.rotation_id, secret_path = %target.secret_path, url = %self.redacted_url, status, attempts, "webhook accepted rotation");
        Ok(RotationReceipt {
            rotation_id: target.rotation_id.clone(),
            kind: ConnectorKind::Webhook,
            account: target.account.clone(),
            target: self.redacted_url.clone(),
            verification: Verification::Acknowledged { status },
            attempts,
        })
    }

    async fn verify(
        &self,
        target: &TargetSpec,
        secret: &SecretString,
    ) -> Result<Verification, ConnectorError> {
        let (status, _) = self.deliver(EVENT_VERIFY, target, secret).await?;
        Ok(Verification::Acknowledged { status })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> WebhookConfig {
        WebhookConfig {
            url: url.to_string(),
            signing_key: SecretString::from("k".repeat(32)),
            timeout_ms: default_timeout_ms(),
            max_attempts: default_max_attempts(),
            backoff_ms: default_backoff_ms(),
            max_backoff_ms: default_max_backoff_ms(),
        }
    }

    #[test]
    fn https_and_loopback_http_accepted() {
        assert!(config("https://hooks.example/rotate").build().is_ok());
        assert!(config("http://127.0.0.1:8080/hook").build().is_ok());
        assert!(config("http://[::1]:8080/hook").build().is_ok());
        assert!(config("http://localhost/hook").build().is_ok());
    }

    #[test]
    fn plain_http_to_remote_rejected() {
        let err = config("http://hooks.example/rotate").build().unwrap_err();
        assert_eq!(err.field, "url");
        assert!(err.reason.contains("https"));
    }

    #[test]
    fn credentials_in_url_rejected_without_echo() {
        let err = config("https://user:Pa55word@hooks.example/")
            .build()
            .unwrap_err();
        assert_eq!(err.field, "url");
        assert!(!err.to_string().contains("Pa55word"));
    }

    #[test]
    fn short_signing_key_rejected() {
        let mut short = config("https://hooks.example/");
        short.signing_key = SecretString::from("tooshort-key".to_string());
        let err = short.build().unwrap_err();
        assert_eq!(err.field, "signing_key");
        assert!(!err.to_string().contains("tooshort-key"));
    }

    #[test]
    fn limits_name_their_field() {
        let mut attempts = config("https://hooks.example/");
        attempts.max_attempts = 0;
        assert_eq!(attempts.build().unwrap_err().field, "max_attempts");
        let mut timeout = config("https://hooks.example/");
        timeout.timeout_ms = 5;
        assert_eq!(timeout.build().unwrap_err().field, "timeout_ms");
        let mut backoff = config("https://hooks.example/");
        backoff.backoff_ms = 60_000;
        assert_eq!(backoff.build().unwrap_err().field, "backoff_ms");
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let mut cfg = config("https://hooks.example/");
        cfg.backoff_ms = 100;
        cfg.max_backoff_ms = 350;
        let connector = cfg.build().unwrap();
        assert_eq!(connector.backoff_before(2), Duration::from_millis(100));
        assert_eq!(connector.backoff_before(3), Duration::from_millis(200));
        assert_eq!(connector.backoff_before(4), Duration::from_millis(350));
        assert_eq!(connector.backoff_before(40), Duration::from_millis(350));
    }

    #[test]
    fn signature_is_hmac_sha256_hex() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        let key = SecretString::from("Jefe");
        assert_eq!(
            sign(&key, b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn debug_hides_key_and_query() {
        let mut cfg = config("https://hooks.example/rotate?token=QueryT0ken");
        cfg.signing_key = SecretString::from("SigningKeyValue-0123456789abcdef0123".to_string());
        let connector = cfg.build().unwrap();
        let debug = format!("{connector:?} {cfg:?}");
        assert!(!debug.contains("SigningKeyValue"), "{debug}");
        assert!(!debug.contains("QueryT0ken"), "{debug}");
    }
}
