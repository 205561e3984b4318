//! Benchmark of authenticated secret reads against the real server: each
//! read runs the token lookup, the grant decision, the audit append and
//! the decryption. `/v1/sys/health` is measured in the same run as the
//! baseline, and the report prints reads/s, p50 and p99 per concurrency
//! level with the ratio to the baseline.
//!
//! Ignored by default; run with a release build:
//! `cargo test --release -p ward --test vault_bench -- --ignored --nocapture`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark harness"
)]

mod common;
mod vault_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::TestServer;
use serde_json::json;
use vault_support::{bot_token, create_bot, grant, vault};

/// Time spent per concurrency level and endpoint.
const RUN_FOR: Duration = Duration::from_secs(4);
const CONCURRENCY: [usize; 4] = [1, 4, 16, 64];

struct Stats {
    requests: usize,
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

async fn measure(url: Arc<String>, token: Arc<String>, workers: usize) -> Stats {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(workers)
        .build()
        .unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let client = client.clone();
        let url = Arc::clone(&url);
        let token = Arc::clone(&token);
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while started.elapsed() < RUN_FOR {
                let sent = Instant::now();
                let response = client
                    .get(url.as_str())
                    .header("X-Vault-Token", token.as_str())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status().as_u16(), 200);
                response.bytes().await.unwrap();
                latencies.push(sent.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    all.sort();
    let pick = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    Stats {
        requests: all.len(),
        per_second: all.len() as f64 / elapsed.as_secs_f64(),
        p50: pick(0.50),
        p99: pick(0.99),
    }
}

#[test]
#[ignore = "benchmark: run with --release -- --ignored --nocapture"]
fn authenticated_secret_reads() {
    let server = TestServer::start();
    create_bot(&server, "invoice-bot");
    grant(&server, "invoice-bot", "bots/*", &["read"]);
    let root = server.root_token.clone();
    let write = vault(
        &server,
        "POST",
        "/v1/secret/data/bots/invoice",
        &root,
        Some(json!({"data": {"user": "svc", "pw": "fake-bench-value"}})),
    );
    assert_eq!(write.status, 200);
    let token = Arc::new(bot_token(&server, "invoice-bot"));
    let read_url = Arc::new(format!("{}/v1/secret/data/bots/invoice", server.addr));
    let health_url = Arc::new(format!("{}/v1/sys/health", server.addr));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "| concurrency | endpoint | requests | per second | p50 ms | p99 ms | reads/s as % of health |"
    );
    println!("|---:|---|---:|---:|---:|---:|---:|");
    for workers in CONCURRENCY {
        let health = runtime.block_on(measure(
            Arc::clone(&health_url),
            Arc::clone(&token),
            workers,
        ));
        let reads = runtime.block_on(measure(Arc::clone(&read_url), Arc::clone(&token), workers));
        for (name, stats) in [("sys/health", &health), ("secret read", &reads)] {
            let ratio = if name == "secret read" {
                format!("{:.0}%", 100.0 * reads.per_second / health.per_second)
            } else {
                String::new()
            };
            println!(
                "| {workers} | {name} | {} | {:.0} | {:.2} | {:.2} | {ratio} |",
                stats.requests,
                stats.per_second,
                stats.p50.as_secs_f64() * 1000.0,
                stats.p99.as_secs_f64() * 1000.0,
            );
        }
    }
    let (_, audit) = server.call("GET", "/v1/audit?action=secret.read&limit=1", None);
    assert!(
        audit.as_array().is_some_and(|entries| !entries.is_empty()),
        "reads were audited"
    );
}
