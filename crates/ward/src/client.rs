//! The HTTP client that the `ward` client commands share.
//!
//! The address comes from `--addr` or `WARD_ADDR`, the token from `--token` or
//! `WARD_TOKEN`. For a server with a self-signed certificate, point
//! `WARD_CACERT` at its `tls/cert.pem`, or set `WARD_SKIP_VERIFY=true` on a
//! test machine.

use anyhow::{Context as _, anyhow, bail};
use reqwest::Method;
use reqwest::blocking::{Client as HttpClient, RequestBuilder};
use serde_json::Value;

/// Default server address, matching `ward serve`'s default listen address.
pub const DEFAULT_ADDR: &str = "https://127.0.0.1:8443";

/// Connection options shared by every client command.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// Server address, such as http://127.0.0.1:8443.
    #[arg(long, env = "WARD_ADDR", default_value = DEFAULT_ADDR, global = true)]
    pub addr: String,
    /// Bearer token of the signed-in operator.
    #[arg(long, env = "WARD_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// PEM file with the CA certificate that signed the server's certificate.
    #[arg(long, env = "WARD_CACERT", global = true)]
    pub ca_cert: Option<std::path::PathBuf>,
    /// Skip TLS certificate verification (test machines only).
    #[arg(long, env = "WARD_SKIP_VERIFY", global = true)]
    pub skip_verify: bool,
}

/// A client bound to one server and token.
pub struct Client {
    http: HttpClient,
    addr: String,
    token: Option<String>,
}

impl Client {
    pub fn new(args: &ClientArgs) -> anyhow::Result<Client> {
        let mut builder = HttpClient::builder().timeout(std::time::Duration::from_secs(60));
        if let Some(path) = &args.ca_cert {
            let pem = std::fs::read(path)
                .with_context(|| format!("cannot read the CA certificate {}", path.display()))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .with_context(|| format!("{} is not a PEM certificate", path.display()))?;
            builder = builder.add_root_certificate(cert);
        }
        if args.skip_verify {
            builder = builder.danger_accept_invalid_certs(true);
        }
        let http = builder.build().context("cannot build the HTTP client")?;
        Ok(Client {
            http,
            addr: args.addr.trim_end_matches('/').to_string(),
            token: args.token.clone(),
        })
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self.http.request(method, format!("{}{path}", self.addr));
        match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    pub fn get(&self, path: &str, query: &[(&str, String)]) -> anyhow::Result<Value> {
        self.send(self.request(Method::GET, path).query(query))
    }

    pub fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(self.request(Method::POST, path).json(body))
    }

    pub fn put(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        self.send(self.request(Method::PUT, path).json(body))
    }

    pub fn delete(&self, path: &str) -> anyhow::Result<Value> {
        self.send(self.request(Method::DELETE, path))
    }

    /// Sends a request with any method, such as Vault's `LIST`.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<Value> {
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| anyhow!("invalid HTTP method `{method}`"))?;
        let request = self.request(method, path);
        self.send(match body {
            Some(body) => request.json(body),
            None => request,
        })
    }

    fn send(&self, request: RequestBuilder) -> anyhow::Result<Value> {
        let response = request
            .send()
            .with_context(|| format!("cannot reach the Ward server at {}", self.addr))?;
        let status = response.status();
        let text = response
            .text()
            .context("cannot read the server's response")?;
        let body: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status.is_success() {
            return Ok(body);
        }
        bail!("{}", error_message(status.as_u16(), &body))
    }
}

/// Formats a server error from Ward's shape or Vault's `errors` array.
fn error_message(status: u16, body: &Value) -> String {
    if let Some(error) = body.get("error") {
        let message = error
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("request failed");
        let code = error.get("code").and_then(Value::as_str).unwrap_or("error");
        return format!("{message} (HTTP {status}, {code})");
    }
    if let Some(errors) = body.get("errors").and_then(Value::as_array) {
        let joined: Vec<&str> = errors.iter().filter_map(Value::as_str).collect();
        if !joined.is_empty() {
            return format!("{} (HTTP {status})", joined.join("; "));
        }
    }
    match status {
        404 => "not found (HTTP 404): check the path, name or id".to_string(),
        403 => "permission denied (HTTP 403): check the token and its grants".to_string(),
        503 => "the vault is sealed (HTTP 503): unseal it with `ward operator unseal`".to_string(),
        _ => format!("the server answered HTTP {status}"),
    }
}
