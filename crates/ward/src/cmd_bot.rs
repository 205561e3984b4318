//! `ward bot`: the inventory, the lifecycle, workflows and bot credentials.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::client::{Client, ClientArgs};
use crate::output::{OutputFormat, print};

const COLUMNS: &[&str] = &[
    "id",
    "name",
    "platform",
    "state",
    "owner_id",
    "review_by",
    "review_overdue",
    "owner_flag",
];

/// Options shared by every `ward bot` subcommand.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Output format.
    #[arg(long, short, value_enum, default_value_t)]
    output: OutputFormat,
    #[command(flatten)]
    client: ClientArgs,
}

/// Subcommands of `ward bot`.
#[derive(Debug, clap::Subcommand)]
pub enum BotCommand {
    /// Register a bot with its purpose and two accountable owners.
    Create {
        /// Unique name: 3-64 characters of a-z, 0-9, `-`, `_`, `.`.
        #[arg(long)]
        name: String,
        /// One sentence saying what the bot does.
        #[arg(long)]
        purpose: String,
        /// Owner: person id (per_…) or email.
        #[arg(long)]
        owner: String,
        /// Backup owner, a different person: id or email.
        #[arg(long)]
        backup_owner: String,
        /// uipath, automation-anywhere, blue-prism, power-automate, script or other.
        #[arg(long)]
        platform: String,
        /// Next review date, YYYY-MM-DD [default: 90 days ahead].
        #[arg(long)]
        review_by: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// List bots.
    List {
        /// Only bots in this state: active, suspended, quarantined or retired.
        #[arg(long)]
        state: Option<String>,
        /// Only bots owned or backed up by this person (id or email).
        #[arg(long)]
        owner: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Show one bot by id or name.
    Show {
        /// Bot id (bot_…) or name.
        bot: String,
        #[command(flatten)]
        common: Common,
    },
    /// Suspend a bot: it can no longer log in or read secrets.
    Suspend(TransitionArgs),
    /// Quarantine a bot pending investigation.
    Quarantine(TransitionArgs),
    /// Retire a bot for good.
    Retire(TransitionArgs),
    /// Return a suspended or quarantined bot to active.
    Reactivate(TransitionArgs),
    /// Re-certify a bot as still needed, which moves its review date.
    Review {
        /// Bot id (bot_…) or name.
        bot: String,
        /// Confirm the bot is still needed and correctly owned.
        #[arg(long, required = true)]
        certify: bool,
        /// New review date, YYYY-MM-DD [default: 90 days ahead].
        #[arg(long)]
        review_by: Option<String>,
        /// Note recorded with the certification.
        #[arg(long)]
        note: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Upload a new version of a workflow file the bot runs.
    Workflow {
        /// Bot id (bot_…) or name.
        bot: String,
        /// The RPA file or script.
        file: PathBuf,
        /// What changed in this version.
        #[arg(long)]
        summary: String,
        #[command(flatten)]
        common: Common,
    },
    /// List the workflow versions of a bot.
    Workflows {
        /// Bot id (bot_…) or name.
        bot: String,
        #[command(flatten)]
        common: Common,
    },
    /// Manage the bot's vault login credentials.
    #[command(subcommand)]
    Credentials(CredentialsCommand),
}

/// Options of a lifecycle transition.
#[derive(Debug, clap::Args)]
pub struct TransitionArgs {
    /// Bot id (bot_…) or name.
    bot: String,
    /// Why; recorded in the audit log.
    #[arg(long)]
    reason: String,
    #[command(flatten)]
    common: Common,
}

/// Subcommands of `ward bot credentials`.
#[derive(Debug, clap::Subcommand)]
pub enum CredentialsCommand {
    /// Issue a role id and a new secret id; the secret id is shown once.
    Issue {
        /// Bot id (bot_…) or name.
        bot: String,
        /// Lifetime of the secret id, such as 24h (at most the role's).
        #[arg(long)]
        ttl: Option<String>,
        /// Number of logins the secret id allows (at most the role's).
        #[arg(long)]
        num_uses: Option<u32>,
        /// Source networks allowed to log in with it, comma-separated CIDRs.
        #[arg(long, value_delimiter = ',')]
        cidr: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
}

pub fn run(command: BotCommand) -> anyhow::Result<ExitCode> {
    match command {
        BotCommand::Create {
            name,
            purpose,
            owner,
            backup_owner,
            platform,
            review_by,
            common,
        } => {
            let body = json!({"name": name, "purpose": purpose, "owner": owner, "backup_owner": backup_owner,
                              "platform": platform, "review_by": review_by});
            let bot = Client::new(&common.client)?.post("/v1/bots", &body)?;
            print(common.output, &bot, COLUMNS);
        }
        BotCommand::List {
            state,
            owner,
            common,
        } => {
            let mut query = Vec::new();
            if let Some(state) = state {
                query.push(("state", state));
            }
            if let Some(owner) = owner {
                query.push(("owner", owner));
            }
            let bots = Client::new(&common.client)?.get("/v1/bots", &query)?;
            print(common.output, &bots, COLUMNS);
        }
        BotCommand::Show { bot, common } => {
            let bot = Client::new(&common.client)?.get(&format!("/v1/bots/{bot}"), &[])?;
            print(common.output, &bot, COLUMNS);
        }
        BotCommand::Suspend(args) => transition("suspend", args)?,
        BotCommand::Quarantine(args) => transition("quarantine", args)?,
        BotCommand::Retire(args) => transition("retire", args)?,
        BotCommand::Reactivate(args) => transition("reactivate", args)?,
        BotCommand::Review {
            bot,
            certify,
            review_by,
            note,
            common,
        } => {
            let body = json!({"certify": certify, "review_by": review_by, "note": note});
            let bot =
                Client::new(&common.client)?.post(&format!("/v1/bots/{bot}/review"), &body)?;
            print(common.output, &bot, COLUMNS);
        }
        BotCommand::Workflow {
            bot,
            file,
            summary,
            common,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .context("the workflow file needs a UTF-8 file name")?;
            let body = match String::from_utf8(bytes) {
                Ok(text) => json!({"name": name, "content": text, "summary": summary}),
                Err(err) => {
                    use base64::Engine as _;
                    let encoded =
                        base64::engine::general_purpose::STANDARD.encode(err.into_bytes());
                    json!({"name": name, "content_base64": encoded, "summary": summary})
                }
            };
            let version =
                Client::new(&common.client)?.post(&format!("/v1/bots/{bot}/workflows"), &body)?;
            print(common.output, &version, &[]);
        }
        BotCommand::Workflows { bot, common } => {
            let versions =
                Client::new(&common.client)?.get(&format!("/v1/bots/{bot}/workflows"), &[])?;
            print(
                common.output,
                &versions,
                &[
                    "name",
                    "version",
                    "content_sha256",
                    "changed_by",
                    "changed_at",
                    "outside_working_hours",
                    "summary",
                ],
            );
        }
        BotCommand::Credentials(CredentialsCommand::Issue {
            bot,
            ttl,
            num_uses,
            cidr,
            common,
        }) => {
            issue_credentials(&bot, ttl, num_uses, cidr, &common)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn transition(name: &str, args: TransitionArgs) -> anyhow::Result<()> {
    let bot = Client::new(&args.common.client)?.post(
        &format!("/v1/bots/{}/{name}", args.bot),
        &json!({"reason": args.reason}),
    )?;
    print(args.common.output, &bot, COLUMNS);
    Ok(())
}

/// Reads the role id and creates a secret id through the Vault-compatible
/// AppRole endpoints, where the role name is the bot name.
fn issue_credentials(
    bot: &str,
    ttl: Option<String>,
    num_uses: Option<u32>,
    cidr: Vec<String>,
    common: &Common,
) -> anyhow::Result<()> {
    let client = Client::new(&common.client)?;
    let name = client
        .get(&format!("/v1/bots/{bot}"), &[])?
        .get("name")
        .and_then(Value::as_str)
        .context("the server returned no bot name")?
        .to_string();
    let role = client.get(&format!("/v1/auth/approle/role/{name}/role-id"), &[])?;
    let mut body = json!({});
    if let Some(ttl) = ttl {
        body["ttl"] = json!(ttl);
    }
    if let Some(uses) = num_uses {
        body["num_uses"] = json!(uses);
    }
    if !cidr.is_empty() {
        body["cidr_list"] = json!(cidr.join(","));
    }
    let secret = client.post(&format!("/v1/auth/approle/role/{name}/secret-id"), &body)?;
    let result = json!({
        "bot": name,
        "role_id": role.pointer("/data/role_id"),
        "secret_id": secret.pointer("/data/secret_id"),
        "secret_id_accessor": secret.pointer("/data/secret_id_accessor"),
        "secret_id_ttl": secret.pointer("/data/secret_id_ttl"),
        "secret_id_num_uses": secret.pointer("/data/secret_id_num_uses"),
    });
    print(common.output, &result, &[]);
    if common.output == OutputFormat::Table {
        eprintln!(
            "The secret id is shown only this once. Give it to the bot through its platform's credential store."
        );
    }
    Ok(())
}
