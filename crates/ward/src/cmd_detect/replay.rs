//! `ward detect replay`: the detection engine over log files, offline.

use std::collections::HashSet;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use serde_json::json;
use ward_core::event::Event;
use ward_detect::{Alert, Config, Engine, latest_revisions};

use super::files::{Summary, expand, parse_file};
use super::{InputArgs, OutputFormat, ReplayArgs};

pub fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let config = load_config(&args)?;
    let parser = args.input.parser()?;
    let files = expand(&args.input.paths)?;

    let mut summary = Summary::default();
    let mut events: Vec<Event> = Vec::new();
    for (index, path) in files.iter().enumerate() {
        parse_file(&parser, index, path, &mut summary, &mut |located| {
            events.push(located.event);
            Ok(())
        })?;
    }
    // Logs arrive out of order across files (CloudTrail delivers per region
    // and per 5-minute window), so replay scores events in time order.
    events.sort_by_key(|event| event.time);

    let mut engine = Engine::new(config);
    let mut alerts = Vec::new();
    for event in &events {
        alerts.extend(engine.process(event));
    }
    alerts.extend(engine.finish());
    let alerts = latest_revisions(alerts);

    let identity_days: HashSet<(&str, i64)> = events
        .iter()
        .map(|event| {
            (
                event.actor.uid.as_str(),
                event.time.unix_timestamp().div_euclid(86_400),
            )
        })
        .collect();
    let stats = engine.stats();
    let mut out = std::io::stdout().lock();
    match args.output {
        OutputFormat::Table => print_table(&mut out, &alerts)?,
        OutputFormat::Json => {
            let document = json!({
                "alerts": alerts,
                "summary": {
                    "files": summary.files,
                    "files_failed": summary.files_failed.len(),
                    "digest_files": summary.digest_files,
                    "events": summary.events,
                    "malformed": summary.malformed,
                    "duplicates": stats.duplicates,
                    "stale": stats.stale,
                    "identities": engine.identity_count(),
                    "identity_days": identity_days.len(),
                },
            });
            serde_json::to_writer_pretty(&mut out, &document)?;
            writeln!(out)?;
        }
        OutputFormat::Ocsf => {
            for alert in &alerts {
                serde_json::to_writer(&mut out, &alert.to_ocsf())?;
                writeln!(out)?;
            }
        }
    }
    eprintln!("{summary}");
    eprintln!(
        "detection: {} alerts over {} identities ({} identity-days); {} duplicate and {} stale events skipped",
        alerts.len(),
        engine.identity_count(),
        identity_days.len(),
        stats.duplicates,
        stats.stale
    );
    Ok(if summary.files_failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `ward detect parse`: events as JSON lines on stdout, summary on stderr.
pub fn print_events(args: InputArgs) -> anyhow::Result<ExitCode> {
    let parser = args.parser()?;
    let files = expand(&args.paths)?;
    let mut summary = Summary::default();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (index, path) in files.iter().enumerate() {
        parse_file(&parser, index, path, &mut summary, &mut |located| {
            serde_json::to_writer(&mut out, &located.event)?;
            writeln!(out)?;
            Ok(())
        })?;
    }
    out.flush()?;
    eprintln!("{summary}");
    Ok(if summary.files_failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn load_config(args: &ReplayArgs) -> anyhow::Result<Config> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("failed to read detection config {}", path.display()))?;
            toml::from_str(&text)
                .with_context(|| format!("invalid detection config {}", path.display()))?
        }
        None => Config::default(),
    };
    if let Some(days) = args.learning_days {
        anyhow::ensure!(days >= 0.0, "--learning-days must be 0 or more, got {days}");
        config.learning_days = days;
    }
    if let Some(threshold) = args.alert_threshold {
        anyhow::ensure!(
            threshold <= 100,
            "--alert-threshold must be 0–100, got {threshold}"
        );
        config.alert_threshold = threshold;
    }
    Ok(config)
}

fn print_table(out: &mut impl Write, alerts: &[Alert]) -> std::io::Result<()> {
    if alerts.is_empty() {
        return writeln!(out, "no alerts");
    }
    writeln!(
        out,
        "{:>5}  {:<20}  {:<32}  DETECTORS",
        "SCORE", "FIRST SEEN", "IDENTITY"
    )?;
    for alert in alerts {
        let detectors: Vec<&str> = alert.signals.iter().map(|s| s.detector.as_str()).collect();
        let first_seen = alert
            .first_seen
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        writeln!(
            out,
            "{:>5}  {:<20}  {:<32}  {}",
            alert.score,
            first_seen,
            alert.identity_name.as_deref().unwrap_or(&alert.identity),
            detectors.join(",")
        )?;
        for signal in &alert.signals {
            writeln!(out, "       - {}", signal.explanation())?;
        }
    }
    Ok(())
}
