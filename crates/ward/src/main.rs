//! The `ward` binary: the server, the client commands, the scanner and offline
//! detection replay.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd_detect;
mod cmd_scan;

/// Ward: a security control plane for RPA bots and other non-human identities.
#[derive(Debug, Parser)]
#[command(name = "ward", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Find hardcoded credentials in files, RPA projects and git history.
    Scan(cmd_scan::ScanArgs),
    /// Stream activity log files to a Ward server.
    Ingest(cmd_detect::IngestArgs),
    /// Run behavioural detection offline.
    #[command(subcommand)]
    Detect(cmd_detect::DetectCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => cmd_scan::run(args),
        Command::Ingest(args) => cmd_detect::run_ingest(args),
        Command::Detect(command) => cmd_detect::run(command),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
