//! A real `ward serve --dev` process on a temporary data folder, for
//! integration tests that talk to it over HTTP and through the CLI.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the harness"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test harness"
)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Path of the `ward` binary under test.
pub fn ward_bin() -> &'static str {
    env!("CARGO_BIN_EXE_ward")
}

/// A running server and the folder it keeps its data in.
pub struct TestServer {
    pub addr: String,
    pub root_token: String,
    pub data_dir: PathBuf,
    port: u16,
    child: Option<Child>,
    extra_args: Vec<String>,
    _temp: Option<tempfile::TempDir>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl TestServer {
    /// Starts a development server with the test clock on a fresh data folder.
    pub fn start() -> TestServer {
        Self::start_with(&[])
    }

    /// Like [`TestServer::start`], with extra `ward serve` arguments.
    pub fn start_with(extra: &[&str]) -> TestServer {
        let temp = tempfile::tempdir().unwrap();
        let data_dir = temp.path().join("data");
        let port = free_port();
        let mut server = TestServer {
            addr: format!("http://127.0.0.1:{port}"),
            root_token: format!("wrd_test_root_{port}"),
            data_dir,
            port,
            child: None,
            extra_args: extra.iter().map(|s| s.to_string()).collect(),
            _temp: Some(temp),
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let child = Command::new(ward_bin())
            .args(["serve", "--dev", "--test-clock", "--data-dir"])
            .arg(&self.data_dir)
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .args(&self.extra_args)
            .env("WARD_DEV_ROOT_TOKEN", &self.root_token)
            .env_remove("WARD_ADDR")
            .env_remove("WARD_TOKEN")
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        self.child = Some(child);
        self.wait_ready();
    }

    /// File receiving the server's standard output and error.
    pub fn log_path(&self) -> PathBuf {
        self.data_dir.parent().unwrap().join("server.log")
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let url = format!("{}/v1/sys/seal-status", self.addr);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait().unwrap()
            {
                panic!("ward serve exited early with {status}:\n{}", self.log());
            }
            if let Ok(response) = reqwest::blocking::get(&url)
                && (response.status().as_u16() < 500 || response.status().as_u16() == 503)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("ward serve did not become ready:\n{}", self.log());
    }

    /// Kills the server with SIGKILL, as a crash would.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Stops the server with SIGTERM and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Starts the server again on the same data folder and port.
    pub fn restart(&mut self) {
        self.kill9();
        self.spawn();
    }

    /// Sends a request with the root token; returns status and JSON body.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call_as(&self.root_token, method, path, body)
    }

    /// Sends a request with `token` (empty for none).
    pub fn call_as(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let client = reqwest::blocking::Client::new();
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut request = client.request(method, format!("{}{path}", self.addr));
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().unwrap();
        let status = response.status().as_u16();
        let text = response.text().unwrap();
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, value)
    }

    /// Runs the `ward` CLI against this server as root.
    pub fn cli(&self, args: &[&str]) -> Output {
        self.cli_as(&self.root_token, args)
    }

    pub fn cli_as(&self, token: &str, args: &[&str]) -> Output {
        Command::new(ward_bin())
            .args(args)
            .env("WARD_ADDR", &self.addr)
            .env("WARD_TOKEN", token)
            .output()
            .unwrap()
    }

    /// Moves the server's clock forward by a duration such as `91d`.
    pub fn advance_clock(&self, by: &str) {
        let (status, body) = self.call(
            "POST",
            "/v1/sys/clock",
            Some(serde_json::json!({"advance": by})),
        );
        assert_eq!(status, 200, "{body}");
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Standard output of a CLI run as text, failing with its error output when
/// the exit status is not `expected`.
pub fn expect_exit(output: &Output, expected: i32) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert_eq!(
        output.status.code(),
        Some(expected),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    stdout
}

// Helpers for the foundation tests: people, bots, operators, sign-in, audit
// queries and direct access to the database file.

/// The server's current time (test clock included) as Unix seconds, read
/// from `server_time_utc` in `GET /v1/sys/health`.
pub fn server_unix_time(server: &TestServer) -> u64 {
    let (status, body) = server.call_as("", "GET", "/v1/sys/health", None);
    assert!(
        status < 500 || status == 503,
        "health returned {status}: {body}"
    );
    body["server_time_utc"]
        .as_u64()
        .unwrap_or_else(|| panic!("health has no numeric server_time_utc: {body}"))
}

impl TestServer {
    /// Adds a person as root and returns their id.
    pub fn add_person(&self, name: &str, email: &str) -> String {
        let (status, body) = self.call(
            "POST",
            "/v1/people",
            Some(serde_json::json!({"name": name, "email": email})),
        );
        assert_eq!(status, 201, "adding {email}: {body}");
        body["id"].as_str().unwrap().to_string()
    }

    /// Registers a bot as root on the `uipath` platform and returns it.
    pub fn add_bot(&self, name: &str, owner: &str, backup_owner: &str) -> Value {
        self.add_bot_as(&self.root_token, name, owner, backup_owner)
    }

    /// Registers a bot with `token` on the `uipath` platform and returns it.
    pub fn add_bot_as(&self, token: &str, name: &str, owner: &str, backup_owner: &str) -> Value {
        let body = serde_json::json!({
            "name": name, "purpose": "Posts supplier invoices into the ledger.",
            "owner": owner, "backup_owner": backup_owner, "platform": "uipath",
        });
        let (status, body) = self.call_as(token, "POST", "/v1/bots", Some(body));
        assert_eq!(status, 201, "registering {name}: {body}");
        body
    }

    /// Creates an operator as root; returns the operator id and the base32
    /// TOTP secret shown once at creation.
    pub fn add_operator(
        &self,
        person: &str,
        username: &str,
        password: &str,
        roles: &[&str],
    ) -> (String, String) {
        let body = serde_json::json!({"person": person, "username": username, "password": password, "roles": roles});
        let (status, body) = self.call("POST", "/v1/operators", Some(body));
        assert_eq!(status, 201, "creating operator {username}: {body}");
        let id = body["operator"]["id"].as_str().unwrap().to_string();
        let secret = body["totp_secret"].as_str().unwrap().to_string();
        (id, secret)
    }

    /// Signs in with a TOTP code computed for the server's clock; returns the
    /// status and body of `POST /v1/auth/login`.
    pub fn login(&self, username: &str, password: &str, totp_secret: &str) -> (u16, Value) {
        let code = totp_code(totp_secret, server_unix_time(self));
        let body = serde_json::json!({"username": username, "password": password, "totp": code});
        self.call_as("", "POST", "/v1/auth/login", Some(body))
    }

    /// Adds a person, makes them an operator with `roles` and signs them in;
    /// returns the operator id and session token.
    pub fn operator_session(&self, username: &str, roles: &[&str]) -> (String, String) {
        let email = format!("{username}@example.com");
        let person = self.add_person(username, &email);
        let password = format!("{username}-long-password-1");
        let (id, secret) = self.add_operator(&person, username, &password, roles);
        let (status, body) = self.login(username, &password, &secret);
        assert_eq!(status, 200, "signing in {username}: {body}");
        (id, body["token"].as_str().unwrap().to_string())
    }

    /// Queries `GET /v1/audit` as root with a raw query string such as
    /// `bot=x&action=bot.suspend`; returns the entries.
    pub fn audit(&self, query: &str) -> Vec<Value> {
        let (status, body) = self.call("GET", &format!("/v1/audit?{query}"), None);
        assert_eq!(status, 200, "audit query {query}: {body}");
        body.as_array().unwrap().clone()
    }

    /// Path of the SQLite database file.
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("ward.db")
    }
}

/// The six-digit TOTP code (SHA-1, 30 s steps) of a base32 secret at `unix`.
pub fn totp_code(secret_base32: &str, unix: u64) -> String {
    let secret = totp_rs::Secret::Encoded(secret_base32.to_string())
        .to_bytes()
        .unwrap();
    let totp = totp_rs::TOTP::new_unchecked(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        secret,
        None,
        String::new(),
    );
    totp.generate(unix)
}

/// Runs `ward audit verify --data-dir DIR [extra]` offline.
pub fn audit_verify(data_dir: &Path, extra: &[&str]) -> Output {
    Command::new(ward_bin())
        .args(["audit", "verify", "--data-dir"])
        .arg(data_dir)
        .args(extra)
        .output()
        .unwrap()
}

/// Runs SQL statements on the database file with a fresh connection, as an
/// attacker with file access would.
pub fn sql_execute(db: &Path, statements: &[&str]) {
    sql_run(db, |mut conn| async move {
        for statement in statements {
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_string()))
                .execute(&mut conn)
                .await
                .unwrap();
        }
    });
}

/// Reads one integer with a fresh connection to the database file.
pub fn sql_scalar(db: &Path, query: &str) -> i64 {
    sql_run(db, |mut conn| async move {
        sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(query.to_string()))
            .fetch_one(&mut conn)
            .await
            .unwrap()
    })
}

/// Runs `work` on a fresh connection to the database file and returns its result.
pub fn sql_run<T, F, Fut>(db: &Path, work: F) -> T
where
    F: FnOnce(sqlx::SqliteConnection) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    use sqlx::Connection as _;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(db)
            .busy_timeout(Duration::from_secs(10));
        let conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .unwrap();
        work(conn).await
    })
}

impl TestServer {
    /// Unseals the development vault after a restart with the single key
    /// share that the first start printed to the log.
    pub fn unseal_dev_vault(&self) {
        let log = self.log();
        let share = log
            .lines()
            .find_map(|line| line.strip_prefix("Unseal Key: "))
            .unwrap_or_else(|| panic!("no `Unseal Key:` line in the server log:\n{log}"))
            .trim()
            .to_string();
        let (status, body) = self.call_as(
            "",
            "PUT",
            "/v1/sys/unseal",
            Some(serde_json::json!({"key": share})),
        );
        assert_eq!(status, 200, "unsealing: {body}");
        assert_eq!(body["sealed"], false, "{body}");
    }
}
