//! `ward secret` against the real server: grants, values, listing,
//! rotation policy and key rotations through the CLI.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;
mod vault_support;

use common::{TestServer, expect_exit};
use vault_support::{bot_token, create_bot, vault};

#[test]
fn secret_commands_grant_put_get_and_rotate() {
    let server = TestServer::start();
    create_bot(&server, "invoice-bot");

    let put = server.cli(&[
        "secret",
        "put",
        "sap/finance/db",
        "user=svc",
        "pw=fake-cli-1",
    ]);
    expect_exit(&put, 0);
    let put_again = server.cli(&[
        "secret",
        "put",
        "sap/finance/db",
        "pw=fake-cli-2",
        "--cas",
        "0",
    ]);
    let stderr = String::from_utf8_lossy(&put_again.stderr);
    assert_eq!(put_again.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("check-and-set parameter did not match"),
        "{stderr}"
    );
    let bare = server.cli(&["secret", "put", "sap/finance/db", "fake-bare-value"]);
    assert!(!String::from_utf8_lossy(&bare.stderr).contains("fake-bare-value"));

    let granted = server.cli(&[
        "secret",
        "grant",
        "--bot",
        "invoice-bot",
        "--path",
        "sap/finance/*",
        "--capability",
        "read",
        "-o",
        "json",
    ]);
    let grant: serde_json::Value = serde_json::from_str(&expect_exit(&granted, 0)).unwrap();
    assert_eq!(grant["path"], "sap/finance/*");
    let token = bot_token(&server, "invoice-bot");
    let read = vault(
        &server,
        "GET",
        "/v1/secret/data/sap/finance/db",
        &token,
        None,
    );
    assert_eq!(read.status, 200, "{}", read.text);

    let field = expect_exit(
        &server.cli(&["secret", "get", "sap/finance/db", "--field", "pw"]),
        0,
    );
    assert_eq!(field.trim(), "fake-cli-1");
    let listed = expect_exit(&server.cli(&["secret", "list", "sap"]), 0);
    assert_eq!(listed.trim(), "finance/");
    let grants = expect_exit(
        &server.cli(&["secret", "grants", "invoice-bot", "-o", "json"]),
        0,
    );
    assert!(grants.contains("sap/finance/*"), "{grants}");

    let policy = server.cli(&[
        "secret",
        "policy",
        "sap/finance/db",
        "--interval",
        "30d",
        "--grace",
        "1h",
        "--owner",
        "invoice-bot",
    ]);
    expect_exit(&policy, 0);
    let metadata = vault(
        &server,
        "GET",
        "/v1/secret/metadata/sap/finance/db",
        &server.root_token,
        None,
    );
    assert_eq!(
        metadata.json["data"]["ward"]["rotation_interval"],
        "720h0m0s"
    );
    assert_eq!(
        metadata.json["data"]["ward"]["owners"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    expect_exit(&server.cli(&["secret", "rotate-data-key"]), 0);
    expect_exit(&server.cli(&["secret", "rotate-root-key"]), 0);
    let after = vault(
        &server,
        "GET",
        "/v1/secret/data/sap/finance/db",
        &token,
        None,
    );
    assert_eq!(after.json["data"]["data"]["pw"], "fake-cli-1");

    let id = grant["id"].as_str().unwrap();
    expect_exit(&server.cli(&["secret", "ungrant", id]), 0);
    assert_eq!(
        vault(
            &server,
            "GET",
            "/v1/secret/data/sap/finance/db",
            &token,
            None
        )
        .status,
        403
    );
}
