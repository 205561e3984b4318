//! `ward serve`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use ward_server::ServerConfig;

use crate::logging::{self, LogFormat};

/// Options of `ward serve`. Flags beat `WARD_*` variables, which beat the TOML
/// file given with `--config`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// TOML file with server settings (see docs/configuration.md).
    #[arg(long, env = "WARD_CONFIG")]
    config: Option<PathBuf>,
    /// Folder for the database, keys and TLS certificate [default: ./ward-data].
    #[arg(long, env = "WARD_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Address and port to listen on [default: 127.0.0.1:8443].
    #[arg(long, env = "WARD_LISTEN")]
    listen: Option<SocketAddr>,
    /// PEM certificate chain to serve; without it a self-signed one is generated.
    #[arg(long, env = "WARD_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for --tls-cert.
    #[arg(long, env = "WARD_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Development mode: plain HTTP on loopback and a printed root token.
    #[arg(long, env = "WARD_DEV")]
    dev: bool,
    /// Let admins move the server clock with POST /v1/sys/clock (for tests).
    #[arg(long, env = "WARD_TEST_CLOCK")]
    test_clock: bool,
    /// Days a review may stay overdue before the bot is quarantined.
    #[arg(long, env = "WARD_REVIEW_GRACE_DAYS")]
    review_grace_days: Option<i64>,
    /// Latest review date a bot may be given, in days from now [default: 365].
    #[arg(long, env = "WARD_REVIEW_MAX_DAYS")]
    review_max_days: Option<i64>,
    /// Days from registration or certification to the next review [default: 90].
    #[arg(long, env = "WARD_REVIEW_DEFAULT_DAYS")]
    review_default_days: Option<i64>,
    /// Working hours in UTC, such as 07:00-19:00; workflow changes outside are flagged.
    #[arg(long, env = "WARD_WORKING_HOURS")]
    working_hours: Option<String>,
    /// Seconds between runs of the lifecycle job.
    #[arg(long, env = "WARD_LIFECYCLE_INTERVAL")]
    lifecycle_interval: Option<u64>,
    /// Log line format.
    #[arg(long, env = "WARD_LOG_FORMAT", value_enum, default_value_t)]
    log_format: LogFormat,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    logging::init(args.log_format, "info");
    let config = build_config(args)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(ward_server::serve(config))?;
    Ok(ExitCode::SUCCESS)
}

fn build_config(args: ServeArgs) -> anyhow::Result<ServerConfig> {
    let mut config = match &args.config {
        Some(path) => ServerConfig::from_toml_file(path)?,
        None => ServerConfig::default(),
    };
    if let Some(dir) = args.data_dir {
        config.data_dir = dir;
    }
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    if args.tls_cert.is_some() {
        config.tls_cert = args.tls_cert;
        config.tls_key = args.tls_key;
    }
    config.dev |= args.dev;
    config.test_clock |= args.test_clock;
    if let Some(days) = args.review_grace_days {
        config.review_grace_days = days;
    }
    if let Some(days) = args.review_max_days {
        config.review_max_days = days;
    }
    if let Some(days) = args.review_default_days {
        config.review_default_days = days;
    }
    if let Some(hours) = args.working_hours {
        config.working_hours = hours;
    }
    if let Some(seconds) = args.lifecycle_interval {
        config.lifecycle_interval_secs = seconds;
    }
    config.dev_root_token = std::env::var("WARD_DEV_ROOT_TOKEN")
        .ok()
        .filter(|t| !t.trim().is_empty());
    config.validate()?;
    Ok(config)
}
