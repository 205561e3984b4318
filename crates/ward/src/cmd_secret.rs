//! `ward secret`: grants, values, rotation policies and key rotations in
//! the vault.

use std::io::Read as _;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde_json::{Map, Value, json};

use crate::client::{Client, ClientArgs};
use crate::output::{OutputFormat, print};

/// Options every `ward secret` subcommand takes.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// Output format.
    #[arg(long, short, value_enum, default_value_t)]
    output: OutputFormat,
    #[command(flatten)]
    client: ClientArgs,
}

/// Subcommands of `ward secret`.
#[derive(Debug, clap::Subcommand)]
pub enum SecretCommand {
    /// Let a bot use the secret paths matching a pattern, such as 'sap/finance/*'.
    Grant {
        /// Bot id (bot_…) or name.
        #[arg(long)]
        bot: String,
        /// Path pattern: a literal path, a trailing `*` for any suffix, `+` for one segment.
        #[arg(long)]
        path: String,
        /// Capability: read, create, update, delete or list (repeat or comma-separate).
        #[arg(long = "capability", value_delimiter = ',', required = true)]
        capabilities: Vec<String>,
        /// Lifetime of the grant, such as 30d; without it the grant has no end.
        #[arg(long)]
        expires_in: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// List a bot's grants.
    Grants {
        /// Bot id (bot_…) or name.
        bot: String,
        #[command(flatten)]
        common: Common,
    },
    /// Remove a grant by its id (grt_…).
    Ungrant {
        /// Grant id.
        id: String,
        #[command(flatten)]
        common: Common,
    },
    /// Write a new version of a secret from KEY=VALUE pairs, or a JSON object on stdin.
    Put {
        /// Secret path inside the `secret/` mount, such as sap/finance/db.
        path: String,
        /// Fields as KEY=VALUE; values on the command line end up in shell history, so prefer --stdin.
        fields: Vec<String>,
        /// Read the fields as one JSON object from standard input.
        #[arg(long)]
        stdin: bool,
        /// Write only if the current version is this one (0: the secret must not exist).
        #[arg(long)]
        cas: Option<u64>,
        #[command(flatten)]
        common: Common,
    },
    /// Read a secret version (the current one by default).
    Get {
        /// Secret path inside the `secret/` mount.
        path: String,
        /// Version number.
        #[arg(long)]
        version: Option<u64>,
        /// Print only this field's value.
        #[arg(long)]
        field: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// List the keys under a folder.
    List {
        /// Folder inside the `secret/` mount; empty for the top level.
        #[arg(default_value = "")]
        folder: String,
        #[command(flatten)]
        common: Common,
    },
    /// Set a secret's rotation interval, grace window and owning bots.
    Policy {
        /// Secret path inside the `secret/` mount.
        path: String,
        /// Time between rotations, such as 30d; omit to rotate only on request.
        #[arg(long)]
        interval: Option<String>,
        /// How long the previous version stays readable after a rotation, such as 1h.
        #[arg(long)]
        grace: Option<String>,
        /// Bot that uses the secret (repeat or comma-separate).
        #[arg(long = "owner", value_delimiter = ',')]
        owners: Vec<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Rotate a secret now: a new password in one field, changed at its target first when one is set.
    Rotate {
        /// Secret path inside the `secret/` mount.
        path: String,
        /// Field that receives the new password.
        #[arg(long)]
        field: Option<String>,
        #[command(flatten)]
        common: Common,
    },
    /// Rotate the data key (new writes use a new key; old records are re-encrypted).
    RotateDataKey {
        #[command(flatten)]
        common: Common,
    },
    /// Rotate the root key that encrypts the keyring; the unseal shares stay valid.
    RotateRootKey {
        #[command(flatten)]
        common: Common,
    },
}

pub fn run(command: SecretCommand) -> anyhow::Result<ExitCode> {
    match command {
        SecretCommand::Grant {
            bot,
            path,
            capabilities,
            expires_in,
            common,
        } => {
            let body = json!({"bot": bot, "path": path, "capabilities": capabilities, "expires_in": expires_in});
            let grant = Client::new(&common.client)?.post("/v1/vault/grants", &body)?;
            print(common.output, &grant, &[]);
        }
        SecretCommand::Grants { bot, common } => {
            let result = Client::new(&common.client)?.get("/v1/vault/grants", &[("bot", bot)])?;
            let grants = result
                .get("grants")
                .cloned()
                .unwrap_or(Value::Array(Vec::new()));
            print(
                common.output,
                &grants,
                &["id", "path", "capabilities", "expires_at"],
            );
        }
        SecretCommand::Ungrant { id, common } => {
            Client::new(&common.client)?.delete(&format!("/v1/vault/grants/{id}"))?;
            println!("grant {id} removed");
        }
        SecretCommand::Put {
            path,
            fields,
            stdin,
            cas,
            common,
        } => {
            let data = match (stdin, fields.is_empty()) {
                (true, true) => read_stdin_object()?,
                (true, false) => merge_fields(read_stdin_object()?, parse_fields(&fields)?)?,
                (false, _) => parse_fields(&fields)?,
            };
            let mut body = json!({"data": data});
            if let Some(cas) = cas {
                body["options"] = json!({"cas": cas});
            }
            let result =
                Client::new(&common.client)?.post(&format!("/v1/secret/data/{path}"), &body)?;
            print(
                common.output,
                result.get("data").unwrap_or(&Value::Null),
                &[],
            );
        }
        SecretCommand::Get {
            path,
            version,
            field,
            common,
        } => {
            let query: Vec<(&str, String)> = version
                .map(|v| ("version", v.to_string()))
                .into_iter()
                .collect();
            let result =
                Client::new(&common.client)?.get(&format!("/v1/secret/data/{path}"), &query)?;
            let data = result.pointer("/data/data").cloned().unwrap_or(Value::Null);
            match field {
                Some(name) => {
                    let value = data
                        .get(&name)
                        .with_context(|| format!("secret `{path}` has no field `{name}`"))?;
                    match value {
                        Value::String(text) => println!("{text}"),
                        other => println!("{other}"),
                    }
                }
                None => print(common.output, &data, &[]),
            }
        }
        SecretCommand::List { folder, common } => {
            let path = if folder.is_empty() {
                "/v1/secret/metadata".to_string()
            } else {
                format!("/v1/secret/metadata/{folder}")
            };
            let result = Client::new(&common.client)?.call("LIST", &path, None)?;
            let keys = result
                .pointer("/data/keys")
                .cloned()
                .unwrap_or(Value::Array(Vec::new()));
            match common.output {
                OutputFormat::Json => print(common.output, &keys, &[]),
                OutputFormat::Table => keys
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .for_each(|key| println!("{key}")),
            }
        }
        SecretCommand::Policy {
            path,
            interval,
            grace,
            owners,
            common,
        } => {
            let owners = (!owners.is_empty()).then_some(owners);
            let body = json!({"interval": interval, "grace": grace, "owners": owners});
            let result =
                Client::new(&common.client)?.put(&format!("/v1/vault/policies/{path}"), &body)?;
            print(common.output, &result, &[]);
        }
        SecretCommand::Rotate {
            path,
            field,
            common,
        } => {
            let body = json!({"path": path, "field": field});
            let result = Client::new(&common.client)?.post("/v1/vault/rotate", &body)?;
            print(common.output, &result, &[]);
            if result.get("connector").is_none_or(Value::is_null) {
                eprintln!(
                    "warning: `{path}` has no rotation target, so only the vault copy changed; \
                     bind it with PUT /v1/vault/targets/{path} so the target system changes too"
                );
            }
        }
        SecretCommand::RotateDataKey { common } => {
            let result = Client::new(&common.client)?.post("/v1/vault/keys/rotate", &json!({}))?;
            print(common.output, &result, &[]);
        }
        SecretCommand::RotateRootKey { common } => {
            let result = Client::new(&common.client)?.post("/v1/vault/root/rotate", &json!({}))?;
            print(common.output, &result, &[]);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_fields(fields: &[String]) -> anyhow::Result<Value> {
    if fields.is_empty() {
        bail!("no fields given: pass KEY=VALUE pairs or --stdin with a JSON object");
    }
    let mut map = Map::new();
    for (index, field) in fields.iter().enumerate() {
        // The text is not echoed: a mistyped field may be a bare secret value.
        let Some((key, value)) = field.split_once('=') else {
            bail!("invalid field number {}: expected KEY=VALUE", index + 1);
        };
        map.insert(key.to_string(), Value::String(value.to_string()));
    }
    Ok(Value::Object(map))
}

/// Adds the KEY=VALUE fields to the object read from standard input; a key
/// given both ways is an error rather than a silent choice.
fn merge_fields(mut object: Value, fields: Value) -> anyhow::Result<Value> {
    let (Some(target), Some(extra)) = (object.as_object_mut(), fields.as_object()) else {
        bail!("standard input must hold a JSON object");
    };
    for (key, value) in extra {
        if target.contains_key(key) {
            bail!(
                "field `{key}` is given both on the command line and on standard input; give it once"
            );
        }
        target.insert(key.clone(), value.clone());
    }
    Ok(object)
}

fn read_stdin_object() -> anyhow::Result<Value> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("cannot read standard input")?;
    let value: Value = serde_json::from_str(&text).context("standard input is not JSON")?;
    if !value.is_object() {
        bail!("standard input must contain one JSON object of fields");
    }
    Ok(value)
}
