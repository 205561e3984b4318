//! `ward audit`: query the log through the server, or verify it offline.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::client::{Client, ClientArgs};
use crate::output::{OutputFormat, print};

/// Subcommands of `ward audit`.
#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Show audit entries, such as what a bot did last week.
    Query {
        /// Bot id or name.
        #[arg(long)]
        bot: Option<String>,
        /// Actor: operator id, `root`, `system` or a bot id.
        #[arg(long)]
        actor: Option<String>,
        /// Action, such as bot.suspend, or a prefix such as `bot.`.
        #[arg(long)]
        action: Option<String>,
        /// Start: a duration ago such as 7d or 12h, or an RFC 3339 time.
        #[arg(long)]
        since: Option<String>,
        /// End: a duration ago or an RFC 3339 time.
        #[arg(long)]
        until: Option<String>,
        /// Most entries to return (1-10000).
        #[arg(long, default_value_t = 1000)]
        limit: u32,
        /// Output format: table or json.
        #[arg(long, short, value_enum, default_value_t)]
        output: OutputFormat,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Verify the hash chain and signed checkpoints of a data folder, offline.
    /// Exits 0 when intact, 1 naming the first sequence number that fails.
    Verify {
        /// The server's data folder.
        #[arg(long, env = "WARD_DATA_DIR", default_value = "./ward-data")]
        data_dir: PathBuf,
        /// Public key file to check checkpoints with [default: DATA_DIR/keys/audit-signing.pub].
        #[arg(long)]
        public_key: Option<PathBuf>,
        /// Output format: table or json.
        #[arg(long, short, value_enum, default_value_t)]
        output: OutputFormat,
    },
}

pub fn run(command: AuditCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuditCommand::Query {
            bot,
            actor,
            action,
            since,
            until,
            limit,
            output,
            client,
        } => {
            let mut query = vec![("limit", limit.to_string())];
            for (key, value) in [
                ("bot", bot),
                ("actor", actor),
                ("action", action),
                ("since", since),
                ("until", until),
            ] {
                if let Some(value) = value {
                    query.push((key, value));
                }
            }
            let entries = Client::new(&client)?.get("/v1/audit", &query)?;
            let returned = entries.as_array().map_or(0, Vec::len);
            if u32::try_from(returned).is_ok_and(|n| n >= limit) {
                eprintln!(
                    "warning: showing the oldest {returned} matching entries; narrow --since or raise --limit to see the rest"
                );
            }
            print(
                output,
                &entries,
                &[
                    "seq", "at", "actor", "action", "bot", "target", "outcome", "details",
                ],
            );
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Verify {
            data_dir,
            public_key,
            output,
        } => verify(&data_dir, public_key.as_deref(), output),
    }
}

fn verify(
    data_dir: &std::path::Path,
    public_key: Option<&std::path::Path>,
    output: OutputFormat,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let result = runtime.block_on(ward_server::verify_audit_offline(data_dir, public_key));
    match result {
        Ok(report) => {
            match output {
                OutputFormat::Json => print(output, &serde_json::to_value(&report)?, &[]),
                OutputFormat::Table => println!(
                    "audit chain intact: {} entries, head {}, {} signed checkpoint(s) (last at sequence {})",
                    report.entries,
                    report.head_hash,
                    report.checkpoints,
                    report
                        .last_checkpoint_seq
                        .map_or_else(|| "none".to_string(), |s| s.to_string())
                ),
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => match err.downcast_ref::<ward_audit::VerifyError>() {
            Some(ward_audit::VerifyError::Broken(failure)) => {
                match output {
                    OutputFormat::Json => print(
                        output,
                        &serde_json::json!({"intact": false, "seq": failure.seq, "reason": failure.reason}),
                        &[],
                    ),
                    OutputFormat::Table => println!(
                        "audit chain BROKEN at sequence {}: {}",
                        failure.seq, failure.reason
                    ),
                }
                Ok(ExitCode::from(1))
            }
            _ => Err(err),
        },
    }
}
