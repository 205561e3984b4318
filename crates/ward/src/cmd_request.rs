//! `ward request`: privilege requests and their approval.

use std::process::ExitCode;

use serde_json::json;

use crate::client::{Client, ClientArgs};
use crate::output::{OutputFormat, print};

const COLUMNS: &[&str] = &[
    "id",
    "bot_id",
    "privilege",
    "status",
    "requested_by",
    "decided_by",
];

/// Options shared by every `ward request` subcommand.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Output format: table or json.
    #[arg(long, short, value_enum, default_value_t)]
    output: OutputFormat,
    #[command(flatten)]
    client: ClientArgs,
}

/// Subcommands of `ward request`.
#[derive(Debug, clap::Subcommand)]
pub enum RequestCommand {
    /// Ask for privilege on a bot; an approver other than you must decide.
    Create {
        /// Bot id or name.
        #[arg(long)]
        bot: String,
        /// The privilege asked for, such as `sap:finance:write`.
        #[arg(long)]
        privilege: String,
        /// Why the bot needs it.
        #[arg(long)]
        justification: String,
        #[command(flatten)]
        common: Common,
    },
    /// List requests, optionally by status: pending, approved or denied.
    List {
        /// Only requests in this status: pending, approved or denied.
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Approve a pending request.
    Approve {
        /// Request id (req_…).
        id: String,
        /// Note recorded with the decision.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Deny a pending request.
    Deny {
        /// Request id (req_…).
        id: String,
        /// Note recorded with the decision.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        common: Common,
    },
}

pub fn run(command: RequestCommand) -> anyhow::Result<ExitCode> {
    let (common, result) = match &command {
        RequestCommand::Create {
            bot,
            privilege,
            justification,
            common,
        } => {
            let body = json!({"bot": bot, "privilege": privilege, "justification": justification});
            (
                common,
                Client::new(&common.client)?.post("/v1/requests", &body)?,
            )
        }
        RequestCommand::List { status, common } => {
            let query: Vec<(&str, String)> = status.iter().map(|s| ("status", s.clone())).collect();
            (
                common,
                Client::new(&common.client)?.get("/v1/requests", &query)?,
            )
        }
        RequestCommand::Approve { id, note, common } => (
            common,
            Client::new(&common.client)?.post(
                &format!("/v1/requests/{id}/approve"),
                &json!({"note": note}),
            )?,
        ),
        RequestCommand::Deny { id, note, common } => (
            common,
            Client::new(&common.client)?
                .post(&format!("/v1/requests/{id}/deny"), &json!({"note": note}))?,
        ),
    };
    print(common.output, &result, COLUMNS);
    Ok(ExitCode::SUCCESS)
}
