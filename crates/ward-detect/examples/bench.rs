//! Throughput and memory of detection, parse to score, on a generated estate.
//!
//! Generates CloudTrail JSON lines for `--identities` bots over `--days`
//! days in memory, with an attack hour injected into 1% of them after the
//! learning period, then parses and scores every line on one thread. Prints
//! events per second and bytes per tracked identity, and writes one CSV row
//! per identity-hour (the engine's hourly features, the label and Ward's
//! score) for `scripts/bench-detect.py`, which runs scikit-learn's
//! IsolationForest on the same events. `--events FILE` also writes the
//! generated JSON lines to FILE.
//!
//! cargo run --release -p ward-detect --example bench -- --identities 10000 --out /tmp/ward-bench-10k.csv

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::time::Instant;

use ward_core::event::Event;
use ward_detect::multivariate::{FEATURE_NAMES, hour_features};
use ward_detect::parse::{Format, Parser};
use ward_detect::{Config, Engine};

const START: i64 = 1_788_739_200; // 2026-09-07T00:00:00Z, a Monday.

/// xorshift64*, so the estate is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Bot {
    first_hour: u64,
    hours: u64,
    rate: u64,
    services: Vec<(&'static str, &'static str)>,
    ip: String,
    attack: Option<(u64, u64)>,
}

const SERVICES: [(&str, &str); 8] = [
    ("s3.amazonaws.com", "GetObject"),
    ("s3.amazonaws.com", "PutObject"),
    ("dynamodb.amazonaws.com", "PutItem"),
    ("sqs.amazonaws.com", "ReceiveMessage"),
    ("secretsmanager.amazonaws.com", "GetSecretValue"),
    ("athena.amazonaws.com", "StartQueryExecution"),
    ("lambda.amazonaws.com", "Invoke"),
    ("glue.amazonaws.com", "GetTable"),
];

#[expect(
    clippy::too_many_arguments,
    reason = "one argument per CloudTrail field the generator varies"
)]
fn line(
    out: &mut Vec<u8>,
    id: u64,
    bot: usize,
    time: i64,
    service: &str,
    operation: &str,
    ip: &str,
    agent: &str,
    error: Option<&str>,
) {
    let at =
        time::OffsetDateTime::from_unix_timestamp(time).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    let stamp = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let error = error
        .map(|code| format!(",\"errorCode\":\"{code}\""))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{{\"eventVersion\":\"1.09\",\"userIdentity\":{{\"type\":\"IAMUser\",\"arn\":\"arn:aws:iam::111122223333:user/bot-{bot}\",\"accountId\":\"111122223333\",\"userName\":\"bot-{bot}\"}},\"eventTime\":\"{stamp}\",\"eventSource\":\"{service}\",\"eventName\":\"{operation}\",\"sourceIPAddress\":\"{ip}\",\"userAgent\":\"{agent}\",\"requestParameters\":{{\"bucketName\":\"data-{bot}\"}},\"eventID\":\"e{id}\"{error}}}"
    );
}

fn generate(
    identities: usize,
    days: u64,
    attack_day: u64,
    rng: &mut Rng,
) -> (Vec<u8>, HashSet<(usize, i64)>) {
    let bots: Vec<Bot> = (0..identities)
        .map(|i| {
            let first = rng.below(SERVICES.len() as u64) as usize;
            let services = (0..3)
                .map(|k| SERVICES[(first + k) % SERVICES.len()])
                .collect();
            let attack = (rng.below(100) == 0).then(|| (rng.below(4), rng.below(24)));
            Bot {
                first_hour: rng.below(24),
                hours: 2 + rng.below(3),
                rate: 2 + rng.below(4),
                services,
                ip: format!("10.{}.{}.{}", i % 250, (i / 250) % 250, 1 + rng.below(250)),
                attack,
            }
        })
        .collect();
    let mut out = Vec::new();
    let mut labels = HashSet::new();
    let mut id = 0u64;
    for day in 0..days {
        for hour in 0..24u64 {
            let hour_start = START + (day * 86_400 + hour * 3600) as i64;
            for (index, bot) in bots.iter().enumerate() {
                let active = (hour + 24 - bot.first_hour) % 24 < bot.hours;
                if active {
                    for k in 0..bot.rate {
                        let (service, operation) = bot.services[(k % 3) as usize];
                        let at = hour_start + rng.below(3600) as i64;
                        line(
                            &mut out,
                            id,
                            index,
                            at,
                            service,
                            operation,
                            &bot.ip,
                            "aws-sdk-java/1.12.600",
                            None,
                        );
                        id += 1;
                    }
                }
                if let Some((kind, attack_hour)) = bot.attack
                    && day == attack_day
                    && hour == attack_hour
                {
                    labels.insert((index, hour_start));
                    attack(&mut out, &mut id, index, bot, kind, hour_start, rng);
                }
            }
        }
    }
    (out, labels)
}

/// Four generic attack shapes: stolen key used from outside, burst of the
/// bot's own calls, permission probing, and mass secret reads.
fn attack(
    out: &mut Vec<u8>,
    id: &mut u64,
    index: usize,
    bot: &Bot,
    kind: u64,
    hour_start: i64,
    rng: &mut Rng,
) {
    let mut emit = |out: &mut Vec<u8>,
                    service: &str,
                    operation: &str,
                    ip: &str,
                    agent: &str,
                    error: Option<&str>| {
        line(
            out,
            *id,
            index,
            hour_start + rng.below(3600) as i64,
            service,
            operation,
            ip,
            agent,
            error,
        );
        *id += 1;
    };
    match kind {
        0 => (0..10).for_each(|_| {
            emit(
                out,
                bot.services[0].0,
                bot.services[0].1,
                "203.0.113.77",
                "python-requests/2.31.0",
                None,
            )
        }),
        1 => (0..bot.rate * 8).for_each(|_| {
            emit(
                out,
                bot.services[0].0,
                bot.services[0].1,
                &bot.ip,
                "aws-sdk-java/1.12.600",
                None,
            )
        }),
        2 => (0..8).for_each(|_| {
            emit(
                out,
                "iam.amazonaws.com",
                "ListRoles",
                &bot.ip,
                "aws-sdk-java/1.12.600",
                Some("AccessDenied"),
            )
        }),
        _ => (0..20).for_each(|_| {
            emit(
                out,
                "secretsmanager.amazonaws.com",
                "GetSecretValue",
                &bot.ip,
                "aws-sdk-java/1.12.600",
                None,
            )
        }),
    }
}

/// Writes one CSV row per identity for the hour that just ended.
fn write_hours(
    csv: &mut impl Write,
    hours: &mut HashMap<usize, Vec<Event>>,
    targets: &mut HashMap<usize, HashSet<String>>,
    hour: i64,
    test_start: i64,
    labels: &HashSet<(usize, i64)>,
    ward_score: &HashMap<(usize, i64), u8>,
) -> std::io::Result<usize> {
    let mut rows = 0;
    for (bot, events) in hours.drain() {
        let known = targets.entry(bot).or_default();
        let mut new_targets = 0;
        for event in &events {
            let target = format!(
                "{}/{}",
                event.service,
                event.resource.as_deref().unwrap_or("")
            );
            if known.insert(target) {
                new_targets += 1;
            }
        }
        let features = hour_features(events.iter(), new_targets);
        let values: Vec<String> = features.iter().map(|v| format!("{v:.5}")).collect();
        let label = u8::from(labels.contains(&(bot, hour)));
        let score = ward_score.get(&(bot, hour)).copied().unwrap_or(0);
        let test = u8::from(hour >= test_start);
        writeln!(
            csv,
            "{bot},{hour},{test},{label},{score},{},{}",
            events.len(),
            values.join(",")
        )?;
        rows += 1;
    }
    Ok(rows)
}

fn bot_number(name: Option<&str>) -> usize {
    name.and_then(|n| n.strip_prefix("bot-"))
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX)
}

fn rss_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = status
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let identities: usize = value("--identities").map_or(Ok(10_000), |v| v.parse())?;
    let days: u64 = value("--days").map_or(Ok(6), |v| v.parse())?;
    let out_path = value("--out").unwrap_or_else(|| "/tmp/ward-bench.csv".to_string());
    let events_path = value("--events");
    let config = Config {
        learning_days: 3.0,
        min_learning_events: 20,
        ..Config::default()
    };
    let attack_day = days - 1;

    let mut rng = Rng(0x5eed_1234_abcd_ef01);
    let (bytes, labels) = generate(identities, days, attack_day, &mut rng);
    let lines = bytes.iter().filter(|b| **b == b'\n').count();
    if let Some(path) = &events_path {
        std::fs::write(path, &bytes)?;
    }
    eprintln!(
        "generated {lines} events ({} MiB) for {identities} identities over {days} days",
        bytes.len() >> 20
    );

    let parser = Parser::new(Format::CloudTrail);
    let rss_before = rss_bytes();
    let started = Instant::now();
    let mut engine = Engine::new(config);
    let mut alerts = Vec::new();
    let (_, mut records) = parser.records(&bytes)?;
    let mut scoring = std::time::Duration::ZERO;
    while let Some((_, record)) = records.next_numbered() {
        let event = record.map_err(|err| format!("generated line failed to parse: {err}"))?;
        let scored_at = Instant::now();
        alerts.extend(engine.process(&event));
        scoring += scored_at.elapsed();
    }
    alerts.extend(engine.finish());
    let elapsed = started.elapsed();
    let rss_after = rss_bytes();

    // Untimed second pass: per identity-hour features of every hour, for the
    // comparison. Lines are generated hour by hour, so each hour is written
    // out when the next one starts.
    let mut ward_score: HashMap<(usize, i64), u8> = HashMap::new();
    for alert in &alerts {
        let bot = bot_number(alert.identity_name.as_deref());
        for signal in &alert.signals {
            let time = signal.time.unix_timestamp();
            let entry = ward_score
                .entry((bot, time - time.rem_euclid(3600)))
                .or_default();
            *entry = (*entry).max(alert.score);
        }
    }
    let mut csv = std::io::BufWriter::new(std::fs::File::create(&out_path)?);
    writeln!(
        csv,
        "identity,hour,test,label,ward_score,event_count,{}",
        FEATURE_NAMES.join(",")
    )?;
    let test_start = START + (attack_day as i64) * 86_400;
    let mut current_hour = i64::MIN;
    let mut hours: HashMap<usize, Vec<Event>> = HashMap::new();
    let mut targets: HashMap<usize, HashSet<String>> = HashMap::new();
    let mut rows = 0usize;
    let (_, records) = parser.records(&bytes)?;
    for event in records.flatten() {
        let time = event.time.unix_timestamp();
        let hour = time - time.rem_euclid(3600);
        if hour != current_hour {
            rows += write_hours(
                &mut csv,
                &mut hours,
                &mut targets,
                current_hour,
                test_start,
                &labels,
                &ward_score,
            )?;
            current_hour = hour;
        }
        hours
            .entry(bot_number(event.actor.name.as_deref()))
            .or_default()
            .push(event);
    }
    rows += write_hours(
        &mut csv,
        &mut hours,
        &mut targets,
        current_hour,
        test_start,
        &labels,
        &ward_score,
    )?;
    csv.flush()?;

    println!("identities: {identities}");
    println!("events: {lines}");
    println!(
        "parse+score seconds: {:.2} (scoring alone {:.2})",
        elapsed.as_secs_f64(),
        scoring.as_secs_f64()
    );
    println!(
        "events per second per core: {:.0}",
        lines as f64 / elapsed.as_secs_f64()
    );
    println!(
        "engine heap bytes per identity (estimate): {}",
        engine.heap_bytes() / identities.max(1)
    );
    println!(
        "rss growth per identity: {} bytes",
        rss_after.saturating_sub(rss_before) / identities.max(1)
    );
    println!(
        "alerts: {}",
        ward_detect::latest_revisions(alerts.clone()).len()
    );

    println!(
        "identity-hours written to {out_path}: {rows} ({} attacked)",
        labels.len()
    );
    Ok(())
}
