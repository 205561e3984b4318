//! `ward ingest` against a loopback HTTP peer that answers like the server:
//! back-pressure first, then accepted counts and a rejected line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed setup step should abort the test

mod detect_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;

use detect_support::{assumed_role_bot, cloudtrail_record, write};

/// One request as the peer saw it.
struct Seen {
    headers: Vec<String>,
    body: String,
}

/// Serves one request per connection from `replies` (status line, extra
/// headers, body) and reports each request on the channel.
fn serve(
    listener: TcpListener,
    replies: Vec<(&'static str, &'static str, String)>,
    seen: mpsc::Sender<Seen>,
) {
    for (status, extra, body) in replies {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream);
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            headers.push(line.trim_end().to_string());
        }
        let length: usize = headers
            .iter()
            .find_map(|h| {
                h.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        let mut request_body = vec![0; length];
        reader.read_exact(&mut request_body).unwrap();
        seen.send(Seen {
            headers,
            body: String::from_utf8(request_body).unwrap(),
        })
        .unwrap();
        let response = format!(
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        reader.get_mut().write_all(response.as_bytes()).unwrap();
    }
}

#[test]
fn ingest_retries_back_pressure_and_reports_lines() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for (index, minute) in [1, 2, 3].iter().enumerate() {
        let record = cloudtrail_record(
            &format!("ev-{index}"),
            &format!("2024-05-01T12:0{minute}:00Z"),
            assumed_role_bot(),
            "s3",
            "GetObject",
        );
        text.push_str(&format!("{record}\n"));
        if index == 1 {
            text.push_str("{\"eventTime\": \"2024-05-01T12:02:30Z\", \"broken\n");
        }
    }
    let file = write(dir.path(), "trail.jsonl", text.as_bytes());

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let (sender, received) = mpsc::channel();
    let replies = vec![
        ("429 Too Many Requests", "Retry-After: 0\r\n", "{\"error\":\"busy\"}".to_string()),
        ("200 OK", "", r#"{"accepted":1,"duplicates":0,"rejected":[{"line":2,"error":"event time too far in the future"}]}"#.to_string()),
        ("200 OK", "", r#"{"accepted":0,"duplicates":1,"rejected":[]}"#.to_string()),
    ];
    let peer = std::thread::spawn(move || serve(listener, replies, sender));

    let output = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args([
            "ingest",
            "--format",
            "cloudtrail",
            "--batch-size",
            "2",
            file.to_str().unwrap(),
        ])
        .env("WARD_ADDR", &addr)
        .env("WARD_TOKEN", "test-token")
        .output()
        .unwrap();
    peer.join().unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    let file_name = file.display().to_string();

    assert!(
        err.contains(&format!("malformed: {file_name}:3: ")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "rejected by server: {file_name}:2: event time too far in the future"
        )),
        "{err}"
    );
    assert!(
        err.contains("server: 1 accepted, 1 duplicates, 1 rejected (1 retries)"),
        "{err}"
    );
    assert!(err.contains("3 parsed, 1 malformed"), "{err}");
    assert_eq!(output.status.code(), Some(1));

    let requests: Vec<Seen> = received.try_iter().collect();
    assert_eq!(requests.len(), 3);
    for request in &requests {
        assert!(
            request.headers[0].starts_with("POST /v1/events "),
            "{}",
            request.headers[0]
        );
        let lower: Vec<String> = request
            .headers
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        assert!(
            lower.contains(&"content-type: application/x-ndjson".to_string()),
            "{lower:?}"
        );
        assert!(
            request
                .headers
                .iter()
                .any(|h| h == "authorization: Bearer test-token"
                    || h == "Authorization: Bearer test-token"),
            "{:?}",
            request.headers
        );
    }
    assert_eq!(
        requests[0].body, requests[1].body,
        "the retried batch is resent unchanged"
    );
    let uids: Vec<String> = requests[1..]
        .iter()
        .flat_map(|request| {
            request.body.lines().map(|line| {
                serde_json::from_str::<serde_json::Value>(line).unwrap()["uid"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
        })
        .collect();
    assert_eq!(uids, ["ev-0", "ev-1", "ev-2"]);
}

#[test]
fn ingest_reports_unreachable_server() {
    let dir = tempfile::tempdir().unwrap();
    let record = cloudtrail_record(
        "ev-0",
        "2024-05-01T12:00:00Z",
        assumed_role_bot(),
        "s3",
        "GetObject",
    );
    let file = write(dir.path(), "trail.jsonl", format!("{record}\n").as_bytes());
    // Bind and drop a listener to get a port nothing listens on.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args([
            "ingest",
            "--format",
            "cloudtrail",
            "--max-attempts",
            "2",
            "--addr",
            &format!("http://127.0.0.1:{port}"),
            file.to_str().unwrap(),
        ])
        .env_remove("WARD_TOKEN")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("failed to send events to"), "{err}");
}
