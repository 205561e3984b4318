//! `ward scan`: find hardcoded credentials and plan their move into the vault.
//!
//! Exit status: 0 when nothing is found, 1 when findings remain after allowlists
//! and the baseline, 2 on an error (main maps an `Err` to 2).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use ward_core::finding::Confidence;
use ward_scan::baseline::Baseline;
use ward_scan::report::{self, Format, Summary};
use ward_scan::rules::RuleSet;
use ward_scan::walk::{self, Progress, ScanOutcome, WalkOptions};
use ward_scan::{ScanOptions, Scanner, migrate, upload};

/// Output format of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned text for people.
    Table,
    /// Ward's JSON report.
    Json,
    /// SARIF 2.1.0 for GitHub code scanning.
    Sarif,
}

/// Minimum confidence to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MinConfidence {
    /// Report everything.
    Low,
    /// Drop low-confidence findings.
    Medium,
    /// Report only provider tokens, keys and strong values in credential fields.
    High,
}

/// Options of `ward scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files or folders to scan (default: the current folder).
    pub paths: Vec<PathBuf>,

    /// Scan the full history of the git repository at PATH instead of files.
    #[arg(long, value_name = "PATH")]
    pub git: Option<PathBuf>,

    /// Report format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Print secret values in reports (they are redacted by default).
    #[arg(long)]
    pub show_secrets: bool,

    /// gitleaks-format TOML rule file to use instead of the built-in rules
    /// (`[extend] useDefault = true` keeps the built-in rules as well).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Suppress findings whose fingerprints are in FILE (a JSON report or one fingerprint per line).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Do not honour .gitignore, .ignore and git exclude files.
    #[arg(long)]
    pub no_ignore: bool,

    /// Do not follow symbolic links.
    #[arg(long)]
    pub no_follow_symlinks: bool,

    /// Skip files (and archive members) larger than this many MiB.
    #[arg(long, value_name = "MIB", default_value_t = 50)]
    pub max_file_size: u64,

    /// Drop findings below this confidence.
    #[arg(long, value_enum, default_value_t = MinConfidence::Low)]
    pub min_confidence: MinConfidence,

    /// Scanning threads (0: one per CPU).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,

    /// Send the redacted findings to the Ward server at URL (POST URL/v1/findings).
    #[arg(long, value_name = "URL")]
    pub report_to: Option<String>,

    /// Bearer token for --report-to.
    #[arg(long, env = "WARD_TOKEN", hide_env_values = true)]
    pub token: Option<String>,

    /// Print, per finding, the vault path to create and how the workflow should read it.
    #[arg(long)]
    pub plan_migration: bool,

    /// Never draw the progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// Runs `ward scan`.
pub fn run(args: ScanArgs) -> anyhow::Result<ExitCode> {
    if args.report_to.is_some() && args.token.is_none() {
        anyhow::bail!("--report-to needs a token: set WARD_TOKEN or pass --token");
    }
    let scanner = build_scanner(&args)?;
    let baseline = match &args.baseline {
        Some(path) => Some(Baseline::load(path)?),
        None => None,
    };

    let progress = Arc::new(Progress::default());
    let bar = ProgressDisplay::start(Arc::clone(&progress), !args.no_progress);
    let scanned = scan(&scanner, &args, &progress);
    bar.stop();
    let mut outcome = scanned?;

    for warning in &outcome.warnings {
        eprintln!("warning: {}: {}", warning.path, warning.message);
    }
    let baseline_suppressed = baseline
        .as_ref()
        .map_or(0, |b| b.filter(&mut outcome.findings));

    if let (Some(url), Some(token)) = (&args.report_to, &args.token) {
        let answer = upload::upload(url, token, &outcome.findings)?;
        eprintln!(
            "sent {} finding(s) to {url}: {} stored, {} linked to a bot",
            outcome.findings.len(),
            answer.stored,
            answer.linked
        );
    }
    // The plan needs the secrets to group equal values; it never prints them.
    let plan = args
        .plan_migration
        .then(|| migrate::plan(&outcome.findings));
    if !args.show_secrets {
        outcome.findings.iter_mut().for_each(|f| f.redact());
    }

    let summary = Summary {
        files: outcome.files,
        bytes: outcome.bytes,
        findings: outcome.findings.len(),
        baseline_suppressed,
    };
    write_output(&args, &outcome, &summary, plan.as_deref())?;
    Ok(if outcome.findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn build_scanner(args: &ScanArgs) -> anyhow::Result<Scanner> {
    let rules = match &args.config {
        Some(path) => RuleSet::from_file(path)?,
        None => RuleSet::builtin()?,
    };
    let options = ScanOptions {
        max_file_size: args.max_file_size.saturating_mul(1024 * 1024),
        min_confidence: match args.min_confidence {
            MinConfidence::Low => Confidence::Low,
            MinConfidence::Medium => Confidence::Medium,
            MinConfidence::High => Confidence::High,
        },
        ..ScanOptions::default()
    };
    Ok(Scanner::new(rules, options)?)
}

fn scan(scanner: &Scanner, args: &ScanArgs, progress: &Progress) -> anyhow::Result<ScanOutcome> {
    if let Some(repo) = &args.git {
        return Ok(ward_scan::git::scan_history(
            scanner,
            repo,
            args.threads,
            progress,
        )?);
    }
    let roots = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    // A mistyped path must fail the scan (exit 2), not pass a CI check with
    // no findings; unreadable files found while walking stay warnings.
    if let Some(missing) = roots
        .iter()
        .find(|root| std::fs::symlink_metadata(root).is_err())
    {
        anyhow::bail!(
            "{}: no such file or folder; check the path to scan",
            missing.display()
        );
    }
    let options = WalkOptions {
        no_ignore: args.no_ignore,
        follow_symlinks: !args.no_follow_symlinks,
        threads: args.threads,
    };
    Ok(walk::scan_paths(scanner, &roots, &options, progress))
}

fn write_output(
    args: &ScanArgs,
    outcome: &ScanOutcome,
    summary: &Summary,
    plan: Option<&[migrate::PlanEntry]>,
) -> anyhow::Result<()> {
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .with_context(|| format!("failed to create the report file {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    let format = match args.format {
        OutputFormat::Table => Format::Table,
        OutputFormat::Json => Format::Json,
        OutputFormat::Sarif => Format::Sarif,
    };
    match plan {
        Some(plan) if format == Format::Json => {
            serde_json::to_writer_pretty(&mut out, &serde_json::json!({ "migration_plan": plan }))?;
            writeln!(out)?;
        }
        Some(plan) => migrate::write_text(plan, &mut out)?,
        None => report::write(format, outcome, summary, &mut out)?,
    }
    out.flush()
        .with_context(|| output_name(args.output.as_deref()))?;
    if plan.is_some() || format != Format::Table {
        eprintln!(
            "{} finding(s) in {} file(s)",
            summary.findings, summary.files
        );
    }
    Ok(())
}

fn output_name(path: Option<&Path>) -> String {
    match path {
        Some(path) => format!("failed to write the report to {}", path.display()),
        None => "failed to write the report to standard output".to_string(),
    }
}

/// A progress bar on standard error, drawn only when it is a terminal.
struct ProgressDisplay {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ProgressDisplay {
    fn start(progress: Arc<Progress>, enabled: bool) -> ProgressDisplay {
        let done = Arc::new(AtomicBool::new(false));
        if !enabled || !std::io::stderr().is_terminal() {
            return ProgressDisplay { done, thread: None };
        }
        let bar = indicatif::ProgressBar::new_spinner();
        let finished = Arc::clone(&done);
        let thread = std::thread::spawn(move || {
            while !finished.load(Ordering::Relaxed) {
                let files = progress.files.load(Ordering::Relaxed);
                let bytes = progress.bytes.load(Ordering::Relaxed);
                let findings = progress.findings.load(Ordering::Relaxed);
                bar.set_message(format!(
                    "{files} files, {:.1} MiB, {findings} findings",
                    bytes as f64 / (1024.0 * 1024.0)
                ));
                bar.tick();
                std::thread::sleep(Duration::from_millis(120));
            }
            bar.finish_and_clear();
        });
        ProgressDisplay {
            done,
            thread: Some(thread),
        }
    }

    fn stop(self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread {
            let _ = thread.join();
        }
    }
}
