//! The `ward` binary: the server, the client commands, the scanner and offline
//! detection replay.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod client;
mod cmd_alerts;
mod cmd_audit;
mod cmd_bot;
mod cmd_detect;
mod cmd_login;
mod cmd_operator;
mod cmd_person;
mod cmd_request;
mod cmd_scan;
mod cmd_secret;
mod cmd_serve;
mod logging;
mod output;

/// Ward: a security control plane for RPA bots and other non-human identities.
#[derive(Debug, Parser)]
#[command(name = "ward", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Ward server.
    Serve(cmd_serve::ServeArgs),
    /// Sign in as an operator and print a session token.
    Login(cmd_login::LoginArgs),
    /// Manage the people who own bots.
    #[command(subcommand)]
    Person(cmd_person::PersonCommand),
    /// Manage operator accounts and the vault seal.
    #[command(subcommand)]
    Operator(cmd_operator::OperatorCommand),
    /// Register bots and manage their lifecycle.
    #[command(subcommand)]
    Bot(cmd_bot::BotCommand),
    /// Request privilege for a bot, and approve or deny requests.
    #[command(subcommand)]
    Request(cmd_request::RequestCommand),
    /// Query and verify the audit log.
    #[command(subcommand)]
    Audit(cmd_audit::AuditCommand),
    /// List alerts from behavioural detection and record verdicts.
    #[command(subcommand)]
    Alerts(cmd_alerts::AlertsCommand),
    /// Manage vault secrets, grants, rotation policies and key rotations.
    #[command(subcommand)]
    Secret(cmd_secret::SecretCommand),
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
        Command::Serve(args) => cmd_serve::run(args),
        Command::Login(args) => cmd_login::run(args),
        Command::Person(command) => cmd_person::run(command),
        Command::Operator(command) => cmd_operator::run(command),
        Command::Bot(command) => cmd_bot::run(command),
        Command::Request(command) => cmd_request::run(command),
        Command::Audit(command) => cmd_audit::run(command),
        Command::Alerts(command) => cmd_alerts::run(command),
        Command::Secret(command) => cmd_secret::run(command),
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
