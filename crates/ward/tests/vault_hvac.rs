//! The `hvac` 2.4.0 Python client, unmodified, against the real server
//! (the checks are in `vault_hvac.py`).
//!
//! The test needs a Python with hvac: `python3 -m venv .venv &&
//! .venv/bin/pip install hvac==2.4.0` at the repository root, or a Python
//! named by `WARD_HVAC_PYTHON`. Without one it prints why and passes,
//! unless `WARD_REQUIRE_HVAC=1` (set in CI) makes that a failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;
mod vault_support;

use std::path::PathBuf;
use std::process::Command;

use common::TestServer;
use serde_json::json;
use vault_support::{create_bot, grant, role_id, secret_id, vault};

fn hvac_python() -> Option<PathBuf> {
    let candidate = std::env::var_os("WARD_HVAC_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python")
        });
    let has_hvac = Command::new(&candidate)
        .args(["-c", "import hvac"])
        .status()
        .is_ok_and(|s| s.success());
    has_hvac.then_some(candidate)
}

#[test]
fn hvac_client_against_ward() {
    let Some(python) = hvac_python() else {
        let required = std::env::var("WARD_REQUIRE_HVAC").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "WARD_REQUIRE_HVAC=1 but no Python with hvac was found"
        );
        eprintln!(
            "skipped: no Python with hvac (python3 -m venv .venv && .venv/bin/pip install hvac==2.4.0)"
        );
        return;
    };
    let server = TestServer::start();
    create_bot(&server, "invoice-bot");
    grant(
        &server,
        "invoice-bot",
        "bots/*",
        &["read", "create", "update", "delete", "list"],
    );
    let root = server.root_token.clone();
    vault(
        &server,
        "POST",
        "/v1/secret/data/payroll/db",
        &root,
        Some(json!({"data": {"pw": "fake-payroll"}})),
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vault_hvac.py");
    let output = Command::new(python)
        .arg(script)
        .env("VAULT_ADDR", &server.addr)
        .env("WARD_ROLE_ID", role_id(&server, "invoice-bot"))
        .env(
            "WARD_SECRET_ID",
            secret_id(&server, "invoice-bot", json!({})),
        )
        .env("WARD_ROOT_TOKEN", &root)
        .env("WARD_UNSEAL_KEY", vault_support::dev_unseal_key(&server))
        .env_remove("VAULT_TOKEN")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}\nserver log:\n{}",
        server.log()
    );
    assert!(stdout.contains("hvac: all checks passed"), "{stdout}");
}
