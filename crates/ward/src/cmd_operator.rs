//! `ward operator`: operator accounts, and the vault's init, unseal and seal.

use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::{Value, json};

use crate::client::{Client, ClientArgs};
use crate::output::{OutputFormat, print};

/// Subcommands of `ward operator`.
#[derive(Debug, clap::Subcommand)]
pub enum OperatorCommand {
    /// Create an operator account for a person; prints the TOTP secret once.
    Create {
        /// Person id (per_…) or email of the human behind the account.
        #[arg(long)]
        person: String,
        /// Sign-in name.
        #[arg(long)]
        username: String,
        /// Roles, comma-separated: admin, builder, approver, operator, auditor.
        #[arg(long, value_delimiter = ',', required = true)]
        roles: Vec<String>,
        /// Read the initial password from WARD_OPERATOR_PASSWORD (at least 12 characters).
        #[arg(long, env = "WARD_OPERATOR_PASSWORD", hide_env_values = true)]
        password: String,
        /// Output format: table or json.
        #[arg(long, short, value_enum, default_value_t)]
        output: OutputFormat,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List operator accounts.
    List {
        /// Output format: table or json.
        #[arg(long, short, value_enum, default_value_t)]
        output: OutputFormat,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Initialise the vault: create the root key and print its key shares once.
    Init {
        /// Number of key shares to split the unseal key into.
        #[arg(long, default_value_t = 5)]
        key_shares: u32,
        /// Number of shares needed to unseal.
        #[arg(long, default_value_t = 3)]
        key_threshold: u32,
        /// Output format: table or json.
        #[arg(long, short, value_enum, default_value_t)]
        output: OutputFormat,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Submit one unseal key share; repeat until the threshold is reached.
    Unseal {
        /// A key share, hex or base64, as printed by `ward operator init`.
        share: String,
        /// Output format: table or json.
        #[arg(long, short, value_enum, default_value_t)]
        output: OutputFormat,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Seal the vault: no secret is served until it is unsealed again.
    Seal {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show whether the vault is initialised and sealed.
    Status {
        /// Output format: table or json.
        #[arg(long, short, value_enum, default_value_t)]
        output: OutputFormat,
        #[command(flatten)]
        client: ClientArgs,
    },
}

pub fn run(command: OperatorCommand) -> anyhow::Result<ExitCode> {
    match command {
        OperatorCommand::Create {
            person,
            username,
            roles,
            password,
            output,
            client,
        } => {
            let body = json!({"person": person, "username": username, "roles": roles, "password": password});
            let created = Client::new(&client)?.post("/v1/operators", &body)?;
            if output == OutputFormat::Table {
                let secret = created
                    .get("totp_secret")
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                let uri = created
                    .get("totp_uri")
                    .and_then(Value::as_str)
                    .unwrap_or("?");
                println!(
                    "operator created: {}",
                    created
                        .pointer("/operator/id")
                        .and_then(Value::as_str)
                        .unwrap_or("?")
                );
                println!("TOTP secret (shown once; add it to an authenticator app): {secret}");
                println!("TOTP URI: {uri}");
            } else {
                print(output, &created, &[]);
            }
        }
        OperatorCommand::List { output, client } => {
            let list = Client::new(&client)?.get("/v1/operators", &[])?;
            print(
                output,
                &list,
                &["id", "username", "roles", "failed_logins", "locked_until"],
            );
        }
        OperatorCommand::Init {
            key_shares,
            key_threshold,
            output,
            client,
        } => {
            let body = json!({"secret_shares": key_shares, "secret_threshold": key_threshold});
            let result = Client::new(&client)?.put("/v1/sys/init", &body)?;
            print_init(output, &result)?;
        }
        OperatorCommand::Unseal {
            share,
            output,
            client,
        } => {
            let status = Client::new(&client)?.put("/v1/sys/unseal", &json!({"key": share}))?;
            print(output, &status, &[]);
        }
        OperatorCommand::Seal { client } => {
            Client::new(&client)?.put("/v1/sys/seal", &json!({}))?;
            println!("vault sealed");
        }
        OperatorCommand::Status { output, client } => {
            let status = Client::new(&client)?.get("/v1/sys/seal-status", &[])?;
            print(output, &status, &[]);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_init(output: OutputFormat, result: &Value) -> anyhow::Result<()> {
    if output == OutputFormat::Json {
        print(output, result, &[]);
        return Ok(());
    }
    let keys = result
        .get("keys")
        .and_then(Value::as_array)
        .context("the server returned no key shares")?;
    for (index, key) in keys.iter().enumerate() {
        println!("Unseal key {}: {}", index + 1, key.as_str().unwrap_or("?"));
    }
    println!(
        "Root token: {}",
        result
            .get("root_token")
            .and_then(Value::as_str)
            .unwrap_or("?")
    );
    println!();
    println!("The shares are shown only this once. Store them apart, with different people.");
    println!("The vault starts sealed: run `ward operator unseal SHARE` with enough shares.");
    Ok(())
}
