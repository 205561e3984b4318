//! `ward scan` run as a process: exit codes, report formats, redaction, baseline,
//! `--git`, `--plan-migration` and `--report-to` against a local HTTP listener.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// A folder under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("ward-scan-cli-{}-{n}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn write(&self, name: &str, content: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ward(args: &[&str]) -> Output {
    ward_env(args, &[])
}

fn ward_env(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ward"));
    command.arg("scan").args(args).env_remove("WARD_TOKEN");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

const PROGRAM_CS: &str = r#"var a = "Server=tcp:db01.example.invalid,1433;Database=Payroll;User ID=svc_rpa@db01;Password=Fake!Passw0rd-2024;Encrypt=True;";
var b = "Data Source=ora01.example.invalid:1521/FIN;User ID=svc_fin;Password=FakeOraPw77;";
var c = "Driver={ODBC Driver 18 for SQL Server};Server=db02.example.invalid;Uid=svc_rpa;Pwd=Fake#Pwd-7731;";
var d = "jdbc:sqlserver://db03.example.invalid:1433;databaseName=HR;user=svc_hr;password=Fake-Jdbc-Pw9;";
var e = "Server=db04.example.invalid;Database=Ops;Integrated Security=SSPI;";
var f = "Server=db05.example.invalid;User ID=svc;Password=;";
"#;

const SECRETS: &[&str] = &[
    "Fake!Passw0rd-2024",
    "FakeOraPw77",
    "Fake#Pwd-7731",
    "Fake-Jdbc-Pw9",
];

fn case08() -> TempDir {
    let dir = TempDir::new();
    dir.write("Program.cs", PROGRAM_CS);
    dir
}

#[test]
fn clean_folder_exits_zero() {
    let dir = TempDir::new();
    dir.write("settings.ini", "[db]\nhost=db01\npassword=${DB_PASSWORD}\n");
    let output = ward(&[dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).contains("0 finding(s)"));
}

#[test]
fn json_report_is_redacted_by_default() {
    let dir = case08();
    let output = ward(&[dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "secret {secret} leaked into the report"
        );
    }
    let report: Value = serde_json::from_str(&text).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 4);
    for finding in findings {
        assert!(finding.get("secret").is_none());
        assert_eq!(finding["rule_id"], "connection-string-password");
        assert_eq!(finding["fingerprint"].as_str().unwrap().len(), 32);
        assert!(finding["line"].as_u64().unwrap() >= 1);
        assert!(finding["column"].as_u64().unwrap() > 1);
        assert!(finding["confidence"].is_string());
    }
}

#[test]
fn show_secrets_prints_values() {
    let dir = case08();
    let output = ward(&[
        dir.path().to_str().unwrap(),
        "--format",
        "json",
        "--show-secrets",
    ]);
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let secrets: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    assert_eq!(secrets, SECRETS);
}

#[test]
fn sarif_report_shape() {
    let dir = case08();
    let output = ward(&[dir.path().to_str().unwrap(), "--format", "sarif"]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(!text.contains("FakeOraPw77"));
    let sarif: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "ward-scan");
    let rule_ids: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for result in results {
        assert!(rule_ids.contains(&result["ruleId"].as_str().unwrap()));
        let location = &result["locations"][0]["physicalLocation"];
        assert!(
            location["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .ends_with("Program.cs")
        );
        assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(result["partialFingerprints"]["wardFingerprint/v1"].is_string());
    }
}

#[test]
fn baseline_suppresses_accepted_findings() {
    let dir = case08();
    let reports = TempDir::new();
    let baseline = reports.path().join("baseline.json");
    let target = dir.path().to_str().unwrap();
    let first = ward(&[target, "--format", "json", "-o", baseline.to_str().unwrap()]);
    assert_eq!(first.status.code(), Some(1));

    let again = ward(&[target, "--baseline", baseline.to_str().unwrap()]);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{}{}",
        stdout(&again),
        stderr(&again)
    );
    assert!(stdout(&again).contains("4 suppressed by the baseline"));

    dir.write("new.env", "API_TOKEN=New-Token-Value-99\n");
    let with_new = ward(&[
        target,
        "--baseline",
        baseline.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(with_new.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&with_new)).unwrap();
    let files: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files.len(), 1);
    assert!(files[0].ends_with("new.env"));
}

#[test]
fn errors_exit_two() {
    let dir = case08();
    let missing = ward(&[
        dir.path().to_str().unwrap(),
        "--config",
        "/nonexistent/ward-rules.toml",
    ]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/ward-rules.toml"));

    let config = dir.write(
        "bad.toml",
        "[[rules]]\nid = \"x\"\nregex = '''(unclosed'''\n",
    );
    let invalid = ward(&[
        dir.path().to_str().unwrap(),
        "--config",
        config.to_str().unwrap(),
    ]);
    assert_eq!(invalid.status.code(), Some(2));
    assert!(
        stderr(&invalid).contains("rule `x`"),
        "{}",
        stderr(&invalid)
    );

    let no_token = ward(&[
        dir.path().to_str().unwrap(),
        "--report-to",
        "http://127.0.0.1:9",
    ]);
    assert_eq!(no_token.status.code(), Some(2));
    assert!(stderr(&no_token).contains("WARD_TOKEN"));
}

#[test]
fn progress_not_drawn_when_piped() {
    let dir = case08();
    let output = ward(&[dir.path().to_str().unwrap(), "--format", "json"]);
    let err = stderr(&output);
    assert!(!err.contains("MiB"), "progress drawn to a pipe: {err}");
    assert!(
        !err.contains('\u{1b}'),
        "terminal escapes written to a pipe: {err}"
    );
}

#[test]
fn plan_migration_names_vault_paths() {
    let dir = TempDir::new();
    let project = dir.path().join("InvoiceBot");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(project.join("project.json"), r#"{"name": "InvoiceBot"}"#).unwrap();
    std::fs::write(
        project.join("Main.xaml"),
        r#"<Activity x:Class="Main"><ucas:Login DisplayName="SAP Login" Password="Kgnrmcl6" Username="GBI-019" /></Activity>"#,
    )
    .unwrap();
    std::fs::write(
        project.join("deploy.ps1"),
        "$password = \"Deploy-Script-Pw-8\"\n",
    )
    .unwrap();
    let output = ward(&[dir.path().to_str().unwrap(), "--plan-migration"]);
    assert_eq!(output.status.code(), Some(1));
    let plan = stdout(&output);
    assert!(plan.contains("secret/invoice-bot/password"), "{plan}");
    assert!(plan.contains("Get Credential"), "{plan}");
    assert!(plan.contains("HashiCorp Vault"), "{plan}");
    assert!(plan.contains("auth/approle/login"), "{plan}");
    assert!(
        !plan.contains("Kgnrmcl6") && !plan.contains("Deploy-Script-Pw-8"),
        "plan leaked a secret: {plan}"
    );
}

#[test]
fn git_history_findings_carry_commit() {
    let dir = TempDir::new();
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=Fake Dev",
                "-c",
                "user.email=dev@example.invalid",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    git(&["init", "-q"]);
    dir.write("robot.env", "ORCH_PASSWORD=Git-History-Pw-5\n");
    git(&["add", "."]);
    git(&["commit", "-qm", "add"]);
    let commit = git(&["rev-parse", "HEAD"]);
    dir.write("robot.env", "ORCH_PASSWORD=${ORCH_PASSWORD}\n");
    git(&["commit", "-qam", "remove"]);

    let clean_tree = ward(&[dir.path().to_str().unwrap()]);
    assert_eq!(clean_tree.status.code(), Some(0), "{}", stdout(&clean_tree));
    let output = ward(&["--git", dir.path().to_str().unwrap(), "--format", "json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let finding = &report["findings"][0];
    assert_eq!(finding["file"], "robot.env");
    assert_eq!(finding["git"]["commit"], commit.as_str());
    assert!(finding["git"]["author_date"].is_string());
}

/// Accepts one HTTP request, replies 201 with `{"stored": N, "linked": 0}`,
/// and returns the request head and body.
fn serve_once(listener: TcpListener) -> std::thread::JoinHandle<(String, String)> {
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            head.push_str(&line);
        }
        let length: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .expect("request without content-length");
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).unwrap();
        let body = String::from_utf8(body).unwrap();
        let stored = serde_json::from_str::<Value>(&body).unwrap()["findings"]
            .as_array()
            .unwrap()
            .len();
        let answer = format!("{{\"stored\": {stored}, \"linked\": 0}}");
        let mut stream = stream;
        write!(stream, "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}", answer.len()).unwrap();
        stream.flush().unwrap();
        (head, body)
    })
}

#[test]
fn report_to_posts_redacted_findings() {
    let dir = case08();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = serve_once(listener);
    let output = ward_env(
        &[
            dir.path().to_str().unwrap(),
            "--report-to",
            &url,
            "--show-secrets",
        ],
        &[("WARD_TOKEN", "test-token-123")],
    );
    let (head, body) = server.join().unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(stderr(&output).contains("4 stored"), "{}", stderr(&output));

    assert!(head.starts_with("POST /v1/findings "), "{head}");
    assert!(
        head.lines()
            .any(|l| l.eq_ignore_ascii_case("authorization: Bearer test-token-123")),
        "{head}"
    );
    for secret in SECRETS {
        assert!(
            !body.contains(secret),
            "secret {secret} was sent to the server"
        );
    }
    let sent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(sent["scanner"], "ward-scan");
    assert!(sent["version"].is_string());
    let sha = Command::new("sha256sum")
        .arg(dir.path().join("Program.cs"))
        .output()
        .unwrap();
    let sha = String::from_utf8_lossy(&sha.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    for finding in sent["findings"].as_array().unwrap() {
        assert_eq!(finding["file_name"], "Program.cs");
        assert_eq!(finding["file_sha256"], sha.as_str());
        assert!(finding.get("secret").is_none());
        assert!(finding["fingerprint"].is_string());
    }
}

#[test]
fn gitignore_honoured_unless_no_ignore() {
    let dir = TempDir::new();
    dir.write(".gitignore", "build/\n");
    std::fs::create_dir(dir.path().join("build")).unwrap();
    dir.write("build/app.env", "API_TOKEN=Ignored-Token-Value-1\n");
    dir.write(".env", "DB_PASSWORD=Hidden-File-Pw-2\n");
    let target = dir.path().to_str().unwrap();

    let default = ward(&[target, "--format", "json", "--show-secrets"]);
    let report: Value = serde_json::from_str(&stdout(&default)).unwrap();
    let secrets: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["secret"].as_str().unwrap())
        .collect();
    assert_eq!(secrets, vec!["Hidden-File-Pw-2"]);

    let all = ward(&[target, "--format", "json", "--show-secrets", "--no-ignore"]);
    let report: Value = serde_json::from_str(&stdout(&all)).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn min_confidence_drops_weak_values() {
    let dir = TempDir::new();
    dir.write(
        "settings.ini",
        "password=demo\napi_token=Strong-Token-Value-77\n",
    );
    let target = dir.path().to_str().unwrap();
    let low = ward(&[target, "--format", "json"]);
    let report: Value = serde_json::from_str(&stdout(&low)).unwrap();
    assert_eq!(report["findings"].as_array().unwrap().len(), 2);
    let high = ward(&[target, "--format", "json", "--min-confidence", "high"]);
    let report: Value = serde_json::from_str(&stdout(&high)).unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["line"], 2);
}

#[test]
fn missing_scan_path_exits_two() {
    let missing = ward(&["/nonexistent/ward-project", "--format", "json"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("/nonexistent/ward-project"));
}
