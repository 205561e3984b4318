//! `ward ingest` and `ward detect`.

mod files;
mod ingest;
mod replay;

use std::path::PathBuf;
use std::process::ExitCode;

use ward_detect::parse::{CsvMapping, Format, Parser};

/// Input log files and their format.
#[derive(Debug, clap::Args)]
pub struct InputArgs {
    /// Log files or folders (read recursively, in name order).
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Log format: cloudtrail, entra-signin, k8s-audit, uipath-orchestrator,
    /// ocsf, csv or ward.
    #[arg(long, short = 'f')]
    pub format: Format,
    /// CSV column mapping, such as `time=Timestamp,identity=User,operation=Action`
    /// (required with `--format csv`).
    #[arg(long)]
    pub csv_mapping: Option<CsvMapping>,
}

impl InputArgs {
    fn parser(&self) -> anyhow::Result<Parser> {
        let parser = Parser::new(self.format);
        match (&self.csv_mapping, self.format) {
            (Some(mapping), _) => Ok(parser.with_csv_mapping(mapping.clone())),
            (None, Format::Csv) => anyhow::bail!(
                "--format csv needs --csv-mapping, such as `time=Timestamp,identity=User,operation=Action`"
            ),
            (None, _) => Ok(parser),
        }
    }
}

/// Options of `ward ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Address of the Ward server.
    #[arg(long, env = "WARD_ADDR", default_value = "http://127.0.0.1:8443")]
    pub addr: String,
    /// Events per request.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub batch_size: u64,
    /// Maximum attempts per batch while the server returns 429 or 5xx.
    #[arg(long, default_value_t = 8)]
    pub max_attempts: u32,
}

/// Output of `ward detect replay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// A table for people.
    Table,
    /// One JSON document with the alerts and counts.
    Json,
    /// OCSF Detection Findings, one JSON object per line.
    Ocsf,
}

/// Options of `ward detect replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Detection settings as a TOML file (fields of `ward_detect::Config`).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Days of learning before an identity can alert (overrides the config).
    #[arg(long)]
    pub learning_days: Option<f64>,
    /// Lowest score (0–100) that raises an alert (overrides the config).
    #[arg(long)]
    pub alert_threshold: Option<u8>,
}

/// Subcommands of `ward detect`.
#[derive(Debug, clap::Subcommand)]
pub enum DetectCommand {
    /// Run detection over log files offline and print the alerts.
    Replay(ReplayArgs),
    /// Parse log files and print Ward events as JSON lines, without detection.
    Parse(InputArgs),
}

pub fn run_ingest(args: IngestArgs) -> anyhow::Result<ExitCode> {
    ingest::run(args)
}

pub fn run(command: DetectCommand) -> anyhow::Result<ExitCode> {
    match command {
        DetectCommand::Replay(args) => replay::run(args),
        DetectCommand::Parse(args) => replay::print_events(args),
    }
}
