//! Helpers for the vault tests: raw Vault-style HTTP calls (any method,
//! `X-Vault-Token`, full response), a bot with login credentials, and a
//! TLS server that starts uninitialised.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of these helpers"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test helpers"
)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{TestServer, ward_bin};

/// A full HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub content_type: Option<String>,
    pub text: String,
    pub json: Value,
}

/// How a request carries its token.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    None,
    Vault(&'a str),
    Bearer(&'a str),
    Raw(&'a str, &'a str),
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap()
}

/// Sends `method path` to `base` with `auth` and an optional JSON body.
pub fn send(base: &str, method: &str, path: &str, auth: Auth<'_>, body: Option<&Value>) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client()
        .request(method, format!("{base}{path}"))
        .header("X-Vault-Request", "true");
    request = match auth {
        Auth::None => request,
        Auth::Vault(token) => request.header("X-Vault-Token", token),
        Auth::Bearer(token) => request.header("Authorization", format!("Bearer {token}")),
        Auth::Raw(name, value) => request.header(name, value),
    };
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let text = response.text().unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply {
        status,
        content_type,
        text,
        json,
    }
}

/// Sends a request to a test server as `token` through `X-Vault-Token`.
pub fn vault(
    server: &TestServer,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Reply {
    send(
        &server.addr,
        method,
        path,
        Auth::Vault(token),
        body.as_ref(),
    )
}

/// Creates the owners and a bot named `name`.
pub fn create_bot(server: &TestServer, name: &str) {
    for (person, email) in [("Ana", "ana@example.com"), ("Bo", "bo@example.com")] {
        server.call(
            "POST",
            "/v1/people",
            Some(json!({"name": person, "email": email})),
        );
    }
    let (status, body) = server.call(
        "POST",
        "/v1/bots",
        Some(json!({"name": name, "purpose": "Posts supplier invoices into SAP.", "owner": "ana@example.com",
                    "backup_owner": "bo@example.com", "platform": "uipath"})),
    );
    assert_eq!(status, 201, "{body}");
}

/// Grants `capabilities` on `pattern` to bot `name`.
pub fn grant(server: &TestServer, name: &str, pattern: &str, capabilities: &[&str]) {
    let (status, body) = server.call(
        "POST",
        "/v1/vault/grants",
        Some(json!({"bot": name, "path": pattern, "capabilities": capabilities})),
    );
    assert_eq!(status, 201, "{body}");
}

/// The role id of bot `name`.
pub fn role_id(server: &TestServer, name: &str) -> String {
    let reply = vault(
        server,
        "GET",
        &format!("/v1/auth/approle/role/{name}/role-id"),
        &server.root_token,
        None,
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json["data"]["role_id"].as_str().unwrap().to_string()
}

/// A new secret id for bot `name`, with extra request fields.
pub fn secret_id(server: &TestServer, name: &str, fields: Value) -> String {
    let path = format!("/v1/auth/approle/role/{name}/secret-id");
    let reply = vault(server, "POST", &path, &server.root_token, Some(fields));
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json["data"]["secret_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Logs in as bot `name` with fresh credentials and returns the token.
pub fn bot_token(server: &TestServer, name: &str) -> String {
    let role = role_id(server, name);
    let secret = secret_id(server, name, json!({}));
    let reply = send(
        &server.addr,
        "POST",
        "/v1/auth/approle/login",
        Auth::None,
        Some(&json!({"role_id": role, "secret_id": secret})),
    );
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.json["auth"]["client_token"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The unseal key a development server printed at its first start.
pub fn dev_unseal_key(server: &TestServer) -> String {
    let log = server.log();
    let line = log
        .lines()
        .find(|l| l.starts_with("Unseal Key: "))
        .expect("the dev server prints its unseal key");
    line.trim_start_matches("Unseal Key: ").trim().to_string()
}

/// A `ward serve` without `--dev`: HTTPS with a generated certificate, an
/// uninitialised vault, and a root session token printed once.
pub struct TlsServer {
    pub addr: String,
    pub data_dir: PathBuf,
    port: u16,
    child: Option<Child>,
    temp: tempfile::TempDir,
}

impl TlsServer {
    pub fn start() -> TlsServer {
        let temp = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut server = TlsServer {
            addr: format!("https://127.0.0.1:{port}"),
            data_dir: temp.path().join("data"),
            port,
            child: None,
            temp,
        };
        server.spawn();
        server
    }

    fn log_path(&self) -> PathBuf {
        self.temp.path().join("server.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let child = Command::new(ward_bin())
            .args(["serve", "--data-dir"])
            .arg(&self.data_dir)
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .env_remove("WARD_ADDR")
            .env_remove("WARD_TOKEN")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("ward serve exited early with {status}:\n{}", self.log());
            }
            let ready = client()
                .get(format!("{}/v1/sys/seal-status", self.addr))
                .send();
            if ready.is_ok_and(|r| r.status().as_u16() == 200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("ward serve did not become ready:\n{}", self.log());
    }

    /// The root session token printed at the first start.
    pub fn root_token(&self) -> String {
        let log = self.log();
        let line = log
            .lines()
            .find(|l| l.starts_with("Initial root token"))
            .expect("the first start prints the root token");
        line.rsplit(' ').next().unwrap().trim().to_string()
    }

    pub fn send(&self, method: &str, path: &str, auth: Auth<'_>, body: Option<Value>) -> Reply {
        send(&self.addr, method, path, auth, body.as_ref())
    }

    /// Runs the `ward` CLI against this server.
    pub fn cli(&self, token: &str, args: &[&str]) -> std::process::Output {
        Command::new(ward_bin())
            .args(args)
            .env("WARD_ADDR", &self.addr)
            .env("WARD_TOKEN", token)
            .env("WARD_SKIP_VERIFY", "true")
            .output()
            .unwrap()
    }

    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.kill9();
    }
}
