//! `ward scan`.

use std::process::ExitCode;

/// Options of `ward scan`.
#[derive(Debug, clap::Args)]
pub struct ScanArgs {
    /// Files or folders to scan.
    pub paths: Vec<std::path::PathBuf>,
}

pub fn run(_args: ScanArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("ward scan is not built yet")
}
