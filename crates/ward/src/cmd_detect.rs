//! `ward ingest` and `ward detect`.

use std::process::ExitCode;

/// Options of `ward ingest`.
#[derive(Debug, clap::Args)]
pub struct IngestArgs {
    /// Log files or folders to send.
    pub paths: Vec<std::path::PathBuf>,
}

/// Subcommands of `ward detect`.
#[derive(Debug, clap::Subcommand)]
pub enum DetectCommand {
    /// Run detection over log files offline and print the alerts.
    Replay(IngestArgs),
}

pub fn run_ingest(_args: IngestArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("ward ingest is not built yet")
}

pub fn run(_command: DetectCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("ward detect is not built yet")
}
