//! `ward ingest`: parse log files locally and send the events to a server
//! as JSON lines, in batches, with back-off while the server is busy.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::StatusCode;
use reqwest::blocking::Client;
use serde::Deserialize;

use super::IngestArgs;
use super::files::{Located, Summary, expand, parse_file};

/// Rejected records listed in the summary; the rest are only counted.
const MAX_LISTED_REJECTIONS: usize = 20;

/// Maximum wait from a `Retry-After` header or back-off, in seconds.
const MAX_RETRY_WAIT_S: u64 = 30;

/// Server reply to `POST /v1/events`.
#[derive(Debug, Deserialize)]
struct BatchReply {
    accepted: u64,
    #[serde(default)]
    duplicates: u64,
    #[serde(default)]
    rejected: Vec<Rejected>,
}

#[derive(Debug, Deserialize)]
struct Rejected {
    line: usize,
    error: String,
}

#[derive(Debug, Default)]
struct Totals {
    accepted: u64,
    duplicates: u64,
    rejected: u64,
    retries: u64,
    /// First rejected records, as `file:line: error`.
    listed: Vec<String>,
}

struct Sender {
    client: Client,
    url: String,
    token: Option<String>,
    max_attempts: u32,
    batch: Vec<Located>,
    batch_size: usize,
    totals: Totals,
}

pub fn run(args: IngestArgs) -> anyhow::Result<ExitCode> {
    let parser = args.input.parser()?;
    let files = expand(&args.input.paths)?;
    let total_bytes: u64 = files
        .iter()
        .filter_map(|file| std::fs::metadata(file).ok())
        .map(|meta| meta.len())
        .sum();
    let progress = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new(total_bytes);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg}") {
            bar.set_style(style);
        }
        bar
    } else {
        ProgressBar::hidden()
    };

    let token = std::env::var("WARD_TOKEN")
        .ok()
        .filter(|token| !token.is_empty());
    if token.is_none() {
        tracing::warn!("WARD_TOKEN is not set; sending without an Authorization header");
    }
    let client = Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .context("failed to build the HTTP client")?;
    let mut sender = Sender {
        client,
        url: format!("{}/v1/events", args.addr.trim_end_matches('/')),
        token,
        max_attempts: args.max_attempts.max(1),
        batch: Vec::new(),
        batch_size: args.batch_size as usize,
        totals: Totals::default(),
    };

    let mut summary = Summary::default();
    for (index, path) in files.iter().enumerate() {
        progress.set_message(path.display().to_string());
        parse_file(&parser, index, path, &mut summary, &mut |located| {
            sender.batch.push(located);
            if sender.batch.len() >= sender.batch_size {
                sender.flush(&files)?;
            }
            Ok(())
        })?;
        sender.flush(&files)?;
        progress.inc(std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0));
    }
    progress.finish_and_clear();

    let totals = &sender.totals;
    eprintln!("{summary}");
    for line in &totals.listed {
        eprintln!("rejected by server: {line}");
    }
    eprintln!(
        "server: {} accepted, {} duplicates, {} rejected ({} retries)",
        totals.accepted, totals.duplicates, totals.rejected, totals.retries
    );
    let failed = !summary.files_failed.is_empty() || summary.malformed > 0 || totals.rejected > 0;
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

impl Sender {
    fn flush(&mut self, files: &[PathBuf]) -> anyhow::Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let mut body = Vec::new();
        for located in &self.batch {
            serde_json::to_writer(&mut body, &located.event)?;
            body.push(b'\n');
        }
        let reply = self.send(body)?;
        self.totals.accepted += reply.accepted;
        self.totals.duplicates += reply.duplicates;
        for rejected in reply.rejected {
            self.totals.rejected += 1;
            // The server numbers lines within the batch from 1.
            if self.totals.listed.len() >= MAX_LISTED_REJECTIONS {
                continue;
            }
            let text = match self.batch.get(rejected.line.wrapping_sub(1)) {
                Some(located) => {
                    let file = files.get(located.file).cloned().unwrap_or_default();
                    format!("{}:{}: {}", file.display(), located.line, rejected.error)
                }
                None => format!("batch line {}: {}", rejected.line, rejected.error),
            };
            self.totals.listed.push(text);
        }
        self.batch.clear();
        Ok(())
    }

    fn send(&mut self, body: Vec<u8>) -> anyhow::Result<BatchReply> {
        let mut wait = Duration::from_millis(250);
        for attempt in 1..=self.max_attempts {
            let mut request = self
                .client
                .post(&self.url)
                .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
                .body(body.clone());
            if let Some(token) = &self.token {
                request = request.bearer_auth(token);
            }
            let retry_after = match request.send() {
                Ok(response) if response.status().is_success() => {
                    return response.json::<BatchReply>().with_context(|| {
                        format!(
                            "invalid reply from {}: expected {{\"accepted\":N,…}}",
                            self.url
                        )
                    });
                }
                Ok(response)
                    if response.status() == StatusCode::TOO_MANY_REQUESTS
                        || response.status().is_server_error() =>
                {
                    let header = response
                        .headers()
                        .get(reqwest::header::RETRY_AFTER)
                        .and_then(|value| value.to_str().ok())
                        .and_then(|value| value.trim().parse::<u64>().ok());
                    tracing::info!(status = %response.status(), attempt, "server busy, retrying batch");
                    header.map(Duration::from_secs)
                }
                Ok(response) => {
                    let status = response.status();
                    let text = response.text().unwrap_or_default();
                    let hint = match status {
                        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => " (check WARD_TOKEN)",
                        _ => "",
                    };
                    anyhow::bail!(
                        "server rejected the batch with {status}{hint}: {}",
                        text.chars().take(500).collect::<String>()
                    );
                }
                Err(err)
                    if attempt < self.max_attempts && (err.is_connect() || err.is_timeout()) =>
                {
                    tracing::info!(error = %err, attempt, "failed to reach server, retrying batch");
                    None
                }
                Err(err) => {
                    return Err(err)
                        .with_context(|| format!("failed to send events to {}", self.url));
                }
            };
            if attempt == self.max_attempts {
                break;
            }
            self.totals.retries += 1;
            let pause = retry_after
                .unwrap_or(wait)
                .min(Duration::from_secs(MAX_RETRY_WAIT_S));
            std::thread::sleep(pause);
            wait = (wait * 2).min(Duration::from_secs(MAX_RETRY_WAIT_S));
        }
        anyhow::bail!(
            "server at {} stayed busy after {} attempts; try again later or lower --batch-size",
            self.url,
            self.max_attempts
        )
    }
}
