//! Helpers shared by the `detect_*` integration tests: run the real `ward`
//! binary and build log files in a temporary folder.
#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// Runs `ward` with `args` and returns its output.
pub fn ward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .env_remove("WARD_ADDR")
        .env_remove("WARD_TOKEN")
        .output()
        .expect("ward runs")
}

/// Standard error as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `ward detect parse` over `paths`: the events and the output.
pub fn parse(format: &str, paths: &[&Path]) -> (Vec<Value>, Output) {
    let mut args = vec!["detect", "parse", "--format", format];
    let texts: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    args.extend(texts.iter().map(String::as_str));
    let output = ward(&args);
    let events = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| serde_json::from_str(line).expect("event JSON"))
        .collect();
    (events, output)
}

/// Gzips `bytes` with the system `gzip`, as CloudTrail and S3 deliver them.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .arg("-c")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("gzip runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(bytes)
        .expect("write to gzip");
    let output = child.wait_with_output().expect("gzip finishes");
    assert!(output.status.success());
    output.stdout
}

/// Writes `bytes` to `dir/name`, creating folders.
pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("create folders");
    std::fs::write(&path, bytes).expect("write file");
    path
}

/// A CloudTrail record for `identity` at `time`.
pub fn cloudtrail_record(id: &str, time: &str, identity: Value, source: &str, name: &str) -> Value {
    serde_json::json!({
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": time,
        "eventSource": format!("{source}.amazonaws.com"),
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "10.0.0.5",
        "userAgent": "aws-sdk-java/1.12.600",
        "requestParameters": null,
        "responseElements": null,
        "eventID": id,
        "eventType": "AwsApiCall",
        "recipientAccountId": "111122223333",
    })
}

/// The AssumedRole identity of the bot `bot-invoice-07`.
pub fn assumed_role_bot() -> Value {
    serde_json::json!({
        "type": "AssumedRole",
        "principalId": "AROAFAKEFAKEFAKE2345:bot-invoice-07",
        "arn": "arn:aws:sts::111122223333:assumed-role/RpaRunner/bot-invoice-07",
        "accountId": "111122223333",
        "sessionContext": {"sessionIssuer": {"type": "Role", "arn": "arn:aws:iam::111122223333:role/RpaRunner", "userName": "RpaRunner", "accountId": "111122223333"}}
    })
}
