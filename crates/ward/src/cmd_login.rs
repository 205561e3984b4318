//! `ward login`.

use std::io::BufRead as _;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::json;

use crate::client::{Client, ClientArgs};

/// Options of `ward login`.
#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// Operator username.
    #[arg(long)]
    username: String,
    /// Read the password from standard input instead of WARD_PASSWORD.
    #[arg(long)]
    password_stdin: bool,
    /// Current six-digit code from the authenticator app.
    #[arg(long)]
    totp: Option<String>,
    #[command(flatten)]
    client: ClientArgs,
}

pub fn run(args: LoginArgs) -> anyhow::Result<ExitCode> {
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        std::env::var("WARD_PASSWORD").context("set WARD_PASSWORD or pass --password-stdin")?
    };
    let client = Client::new(&args.client)?;
    let response = client.post(
        "/v1/auth/login",
        &json!({"username": args.username, "password": password, "totp": args.totp}),
    )?;
    let token = response
        .get("token")
        .and_then(|t| t.as_str())
        .context("the server returned no token")?;
    let expires = response
        .get("expires_at")
        .and_then(|t| t.as_str())
        .unwrap_or("?");
    eprintln!("signed in; the session expires at {expires}");
    println!("export WARD_TOKEN={token}");
    Ok(ExitCode::SUCCESS)
}
