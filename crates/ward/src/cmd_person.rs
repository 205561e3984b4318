//! `ward person`.

use std::process::ExitCode;

use serde_json::json;

use crate::client::{Client, ClientArgs};
use crate::output::{OutputFormat, print};

const COLUMNS: &[&str] = &["id", "name", "email", "status", "left_at"];

/// Subcommands of `ward person`.
#[derive(Debug, clap::Subcommand)]
pub enum PersonCommand {
    /// Add a person who can own bots.
    Add {
        /// Full name.
        #[arg(long)]
        name: String,
        /// Work email address; must be unique.
        #[arg(long)]
        email: String,
        #[command(flatten)]
        common: Common,
    },
    /// List people.
    List {
        #[command(flatten)]
        common: Common,
    },
    /// Show one person by id or email.
    Show {
        /// Person id (per_…) or email.
        person: String,
        #[command(flatten)]
        common: Common,
    },
    /// Mark a person as having left; their bots go to the backup owners.
    Leave {
        /// Person id (per_…) or email.
        person: String,
        #[command(flatten)]
        common: Common,
    },
}

/// Options shared by every `ward person` subcommand.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Output format.
    #[arg(long, short, value_enum, default_value_t)]
    output: OutputFormat,
    #[command(flatten)]
    client: ClientArgs,
}

pub fn run(command: PersonCommand) -> anyhow::Result<ExitCode> {
    let (common, result) = match &command {
        PersonCommand::Add {
            name,
            email,
            common,
        } => (
            common,
            Client::new(&common.client)?
                .post("/v1/people", &json!({"name": name, "email": email}))?,
        ),
        PersonCommand::List { common } => {
            (common, Client::new(&common.client)?.get("/v1/people", &[])?)
        }
        PersonCommand::Show { person, common } => (
            common,
            Client::new(&common.client)?.get(&format!("/v1/people/{person}"), &[])?,
        ),
        PersonCommand::Leave { person, common } => (
            common,
            Client::new(&common.client)?.post(&format!("/v1/people/{person}/leave"), &json!({}))?,
        ),
    };
    print(common.output, &result, COLUMNS);
    Ok(ExitCode::SUCCESS)
}
