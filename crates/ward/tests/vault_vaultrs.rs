//! The `vaultrs` 0.8.0 client, unmodified, against the real server: AppRole
//! login, KV version 2 writes, versions and lists, token self-service,
//! and the errors it sees when denied, unknown or sealed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;
mod vault_support;

use std::collections::HashMap;

use common::TestServer;
use serde_json::json;
use vault_support::{create_bot, grant, role_id, secret_id, vault};
use vaultrs::client::{Client as _, VaultClient, VaultClientSettingsBuilder};
use vaultrs::error::ClientError;
use vaultrs::sys::ServerStatus;
use vaultrs::{auth, kv2, sys, token};

fn client(server: &TestServer, token: &str) -> VaultClient {
    let settings = VaultClientSettingsBuilder::default()
        .address(&server.addr)
        .token(token)
        .build()
        .unwrap();
    VaultClient::new(settings).unwrap()
}

fn api_code(err: &ClientError) -> Option<u16> {
    match err {
        ClientError::APIError { code, .. } => Some(*code),
        _ => None,
    }
}

#[test]
fn vaultrs_logs_in_reads_writes_and_sees_errors() {
    let mut server = TestServer::start();
    create_bot(&server, "invoice-bot");
    grant(
        &server,
        "invoice-bot",
        "bots/*",
        &["read", "create", "update", "list", "delete"],
    );
    let role = role_id(&server, "invoice-bot");
    let secret = secret_id(&server, "invoice-bot", json!({}));
    let root = server.root_token.clone();
    vault(
        &server,
        "POST",
        "/v1/secret/data/payroll/db",
        &root,
        Some(json!({"data": {"pw": "fake-payroll"}})),
    );
    let unseal_key = vault_support::dev_unseal_key(&server);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // vaultrs sends its configured token even on login; the server must ignore it.
        let mut bot = client(&server, "hvs.not-a-real-token");
        let login = auth::approle::login(&bot, "approle", &role, &secret)
            .await
            .unwrap();
        assert!(login.client_token.starts_with("hvs."));
        assert_eq!(login.lease_duration, 900);
        assert!(login.renewable);
        bot.set_token(&login.client_token);

        let first = kv2::set(
            &bot,
            "secret",
            "bots/invoice",
            &HashMap::from([("pw", "fake-v1")]),
        )
        .await
        .unwrap();
        assert_eq!(first.version, 1);
        let second = kv2::set(
            &bot,
            "secret",
            "bots/invoice",
            &HashMap::from([("pw", "fake-v2")]),
        )
        .await
        .unwrap();
        assert_eq!(second.version, 2);
        let current: HashMap<String, String> =
            kv2::read(&bot, "secret", "bots/invoice").await.unwrap();
        assert_eq!(current["pw"], "fake-v2");
        let old: HashMap<String, String> = kv2::read_version(&bot, "secret", "bots/invoice", 1)
            .await
            .unwrap();
        assert_eq!(old["pw"], "fake-v1");
        let keys = kv2::list(&bot, "secret", "bots").await.unwrap();
        assert_eq!(keys, vec!["invoice".to_string()]);
        let metadata = kv2::read_metadata(&bot, "secret", "bots/invoice")
            .await
            .unwrap();
        assert_eq!(metadata.current_version, 2);

        let lookup = token::lookup_self(&bot).await.unwrap();
        assert_eq!(lookup.accessor, login.accessor);
        let renewed = token::renew_self(&bot, Some("10m")).await.unwrap();
        assert_eq!(renewed.lease_duration, 600);

        // Denied: 403 API error. Unknown: 404 API error. Missing folder: 404.
        let denied = kv2::read::<HashMap<String, String>>(&bot, "secret", "payroll/db")
            .await
            .unwrap_err();
        assert_eq!(api_code(&denied), Some(403), "{denied:?}");
        let unknown = kv2::read::<HashMap<String, String>>(&bot, "secret", "bots/nope")
            .await
            .unwrap_err();
        assert_eq!(api_code(&unknown), Some(404), "{unknown:?}");
        let empty = kv2::list(&bot, "secret", "bots/empty").await.unwrap_err();
        assert_eq!(api_code(&empty), Some(404), "{empty:?}");
        let bad_login = auth::approle::login(&bot, "approle", &role, "wrong-secret")
            .await
            .unwrap_err();
        assert_eq!(api_code(&bad_login), Some(400), "{bad_login:?}");

        let health = sys::health(&bot).await.unwrap();
        assert!(!health.sealed);
        assert!(matches!(sys::status(&bot).await.unwrap(), ServerStatus::OK));
        token::revoke_self(&bot).await.unwrap();
        let revoked = token::lookup_self(&bot).await.unwrap_err();
        assert_eq!(api_code(&revoked), Some(403), "{revoked:?}");
    });

    // Sealed: status reports SEALED and secret reads get a 503 API error.
    server.restart();
    runtime.block_on(async {
        let admin = client(&server, &root);
        assert!(matches!(
            sys::status(&admin).await.unwrap(),
            ServerStatus::SEALED
        ));
        let sealed = kv2::read::<HashMap<String, String>>(&admin, "secret", "payroll/db")
            .await
            .unwrap_err();
        assert_eq!(api_code(&sealed), Some(503), "{sealed:?}");
        let status = sys::unseal(&admin, Some(unseal_key.clone()), None, None)
            .await
            .unwrap();
        assert!(!status.sealed);
        let read: HashMap<String, String> =
            kv2::read(&admin, "secret", "payroll/db").await.unwrap();
        assert_eq!(read["pw"], "fake-payroll");
    });
}
