//! `ward alerts`: list alerts and record verdicts on them.

use std::process::ExitCode;

use serde_json::json;

use crate::client::{Client, ClientArgs};
use crate::output::{OutputFormat, print};

const COLUMNS: &[&str] = &["id", "identity", "score", "status", "last_seen", "summary"];

/// Options shared by every `ward alerts` subcommand.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Output format: table or json.
    #[arg(long, short, value_enum, default_value_t)]
    output: OutputFormat,
    #[command(flatten)]
    client: ClientArgs,
}

/// Subcommands of `ward alerts`.
#[derive(Debug, clap::Subcommand)]
pub enum AlertsCommand {
    /// List alerts, newest first.
    List {
        /// Only alerts in this status: open, acknowledged or false_positive.
        #[arg(long)]
        status: Option<String>,
        /// Only alerts about this identity (the event actor uid).
        #[arg(long)]
        identity: Option<String>,
        /// Only alerts scoring at least this much (0-100).
        #[arg(long)]
        min_score: Option<u8>,
        #[command(flatten)]
        common: Common,
    },
    /// Show one alert with its signals and explanations.
    Show {
        /// Alert id (alr_…).
        id: String,
        /// Print it as an OCSF Detection Finding instead.
        #[arg(long)]
        ocsf: bool,
        #[command(flatten)]
        common: Common,
    },
    /// Mark an alert as seen and real; the baseline stays as it is.
    Ack {
        /// Alert id (alr_…).
        id: String,
        /// Note recorded with the decision.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Mark an alert as a false positive; its behaviour joins the baseline.
    FalsePositive {
        /// Alert id (alr_…).
        id: String,
        /// Note recorded with the decision.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        common: Common,
    },
}

pub fn run(command: AlertsCommand) -> anyhow::Result<ExitCode> {
    match command {
        AlertsCommand::List {
            status,
            identity,
            min_score,
            common,
        } => {
            let mut query = Vec::new();
            for (key, value) in [
                ("status", status),
                ("identity", identity),
                ("min_score", min_score.map(|s| s.to_string())),
            ] {
                if let Some(value) = value {
                    query.push((key, value));
                }
            }
            let alerts = Client::new(&common.client)?.get("/v1/alerts", &query)?;
            print(common.output, &alerts, COLUMNS);
        }
        AlertsCommand::Show { id, ocsf, common } => {
            let path = if ocsf {
                format!("/v1/alerts/{id}/ocsf")
            } else {
                format!("/v1/alerts/{id}")
            };
            let alert = Client::new(&common.client)?.get(&path, &[])?;
            print(
                if ocsf {
                    OutputFormat::Json
                } else {
                    common.output
                },
                &alert,
                &[],
            );
        }
        AlertsCommand::Ack { id, note, common } => {
            let alert = Client::new(&common.client)?.post(
                &format!("/v1/alerts/{id}/acknowledge"),
                &json!({"note": note}),
            )?;
            print(common.output, &alert, &[]);
        }
        AlertsCommand::FalsePositive { id, note, common } => {
            let alert = Client::new(&common.client)?.post(
                &format!("/v1/alerts/{id}/false-positive"),
                &json!({"note": note}),
            )?;
            print(common.output, &alert, &[]);
        }
    }
    Ok(ExitCode::SUCCESS)
}
