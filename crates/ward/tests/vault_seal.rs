//! Seal, unseal and init through the real binary: a TLS server that starts
//! uninitialised, `ward operator init|unseal|seal`, 503 while sealed, and a
//! restart that starts sealed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;
mod vault_support;

use serde_json::{Value, json};
use vault_support::{Auth, TlsServer};

fn output_json(output: &std::process::Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_str(&stdout).unwrap()
}

fn assert_sealed_everywhere(server: &TlsServer, token: &str) {
    let checks = [
        ("GET", "/v1/secret/data/bots/invoice"),
        ("POST", "/v1/auth/approle/login"),
        ("GET", "/v1/auth/token/lookup-self"),
        ("LIST", "/v1/secret/metadata/bots"),
    ];
    for (method, path) in checks {
        let reply = server.send(method, path, Auth::Vault(token), Some(json!({})));
        assert_eq!(reply.status, 503, "{method} {path}: {}", reply.text);
        assert_eq!(
            reply.json,
            json!({"errors": ["Vault is sealed"]}),
            "{method} {path}"
        );
    }
    let bots = server.send("GET", "/v1/bots", Auth::Bearer(token), None);
    assert_eq!(bots.status, 503, "{}", bots.text);
    assert_eq!(bots.json["error"]["code"], "sealed");
}

#[test]
fn init_unseal_seal_and_restart() {
    let mut server = TlsServer::start();
    let root = server.root_token();

    // Uninitialised: health 501 (or the override), init status false.
    let health = server.send("GET", "/v1/sys/health", Auth::None, None);
    assert_eq!(health.status, 501);
    assert_eq!(health.json["initialized"], false);
    assert_eq!(
        server
            .send("GET", "/v1/sys/health?uninitcode=200", Auth::None, None)
            .status,
        200
    );
    let init_status = server.send("GET", "/v1/sys/init", Auth::None, None);
    assert_eq!(init_status.json, json!({"initialized": false}));
    assert_sealed_everywhere(&server, &root);

    // Init: five shares, threshold three, printed once; the vault stays sealed.
    let init = output_json(&server.cli(
        &root,
        &[
            "operator",
            "init",
            "--key-shares",
            "5",
            "--key-threshold",
            "3",
            "-o",
            "json",
        ],
    ));
    let keys: Vec<String> = init["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap().to_string())
        .collect();
    let keys_base64 = init["keys_base64"].as_array().unwrap();
    assert_eq!(keys.len(), 5);
    assert_eq!(keys_base64.len(), 5);
    assert!(init["root_token"].as_str().unwrap().starts_with("hvs."));
    let again = server.send(
        "PUT",
        "/v1/sys/init",
        Auth::None,
        Some(json!({"secret_shares": 5, "secret_threshold": 3})),
    );
    assert_eq!(again.status, 400);
    assert_eq!(
        again.json,
        json!({"errors": ["Vault is already initialized"]})
    );
    let status = server.send("GET", "/v1/sys/seal-status", Auth::None, None);
    assert_eq!(status.status, 200);
    assert_eq!(
        (
            status.json["sealed"].clone(),
            status.json["t"].clone(),
            status.json["n"].clone()
        ),
        (json!(true), json!(3), json!(5))
    );
    assert_eq!(
        server
            .send("GET", "/v1/sys/health", Auth::None, None)
            .status,
        503
    );

    // Unseal with three shares through the CLI, watching the progress.
    let first = output_json(&server.cli(&root, &["operator", "unseal", &keys[0], "-o", "json"]));
    assert_eq!(first["progress"], 1);
    assert_eq!(first["sealed"], true);
    let second = output_json(&server.cli(
        &root,
        &[
            "operator",
            "unseal",
            keys_base64[3].as_str().unwrap(),
            "-o",
            "json",
        ],
    ));
    assert_eq!(second["progress"], 2);
    let third = output_json(&server.cli(&root, &["operator", "unseal", &keys[4], "-o", "json"]));
    assert_eq!(third["sealed"], false);
    assert_eq!(
        server
            .send("GET", "/v1/sys/health", Auth::None, None)
            .status,
        200
    );

    // Store a secret with the vault root token.
    let vault_root = init["root_token"].as_str().unwrap().to_string();
    let write = server.send(
        "POST",
        "/v1/secret/data/bots/invoice",
        Auth::Vault(&vault_root),
        Some(json!({"data": {"pw": "fake-tls"}})),
    );
    assert_eq!(write.status, 200, "{}", write.text);

    // Seal through the CLI: every secret, token and bot request answers 503.
    let seal = server.cli(&root, &["operator", "seal"]);
    assert!(
        seal.status.success(),
        "{}",
        String::from_utf8_lossy(&seal.stderr)
    );
    assert_eq!(
        server
            .send("GET", "/v1/sys/seal-status", Auth::None, None)
            .json["sealed"],
        true
    );
    assert_sealed_everywhere(&server, &vault_root);

    // Unseal again, then a restart (SIGKILL) starts sealed and keeps data.
    for key in &keys[1..4] {
        server.send(
            "PUT",
            "/v1/sys/unseal",
            Auth::None,
            Some(json!({"key": key})),
        );
    }
    assert_eq!(
        server
            .send("GET", "/v1/sys/seal-status", Auth::None, None)
            .json["sealed"],
        false
    );
    server.restart();
    let status = server.send("GET", "/v1/sys/seal-status", Auth::None, None);
    assert_eq!(status.json["sealed"], true);
    assert_eq!(status.json["initialized"], true);
    assert_sealed_everywhere(&server, &vault_root);
    for key in &keys[2..5] {
        server.send(
            "PUT",
            "/v1/sys/unseal",
            Auth::None,
            Some(json!({"key": key})),
        );
    }
    let read = server.send(
        "GET",
        "/v1/secret/data/bots/invoice",
        Auth::Vault(&vault_root),
        None,
    );
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.json["data"]["data"], json!({"pw": "fake-tls"}));
}

#[test]
fn wrong_share_and_bad_unseal_bodies() {
    let server = TlsServer::start();
    let init = server.send(
        "PUT",
        "/v1/sys/init",
        Auth::None,
        Some(json!({"secret_shares": 3, "secret_threshold": 2})),
    );
    assert_eq!(init.status, 200, "{}", init.text);
    let keys = init.json["keys"].as_array().unwrap();

    let cases = [
        (
            json!({}),
            "'key' must be specified in request body as JSON, or 'reset' set to true",
        ),
        (
            json!({"key": "not-a-share"}),
            "'key' must be a valid hex or base64 string",
        ),
    ];
    for (body, message) in cases {
        let reply = server.send("PUT", "/v1/sys/unseal", Auth::None, Some(body));
        assert_eq!(reply.status, 400);
        assert_eq!(reply.json["errors"][0], message);
    }

    // One right share and one share of another vault: unseal fails, progress resets.
    let other = TlsServer::start();
    let other_init = other.send(
        "PUT",
        "/v1/sys/init",
        Auth::None,
        Some(json!({"secret_shares": 3, "secret_threshold": 2})),
    );
    let foreign = other_init.json["keys"][0].as_str().unwrap();
    let first = server.send(
        "PUT",
        "/v1/sys/unseal",
        Auth::None,
        Some(json!({"key": keys[0]})),
    );
    assert_eq!(first.json["progress"], 1);
    let wrong = server.send(
        "PUT",
        "/v1/sys/unseal",
        Auth::None,
        Some(json!({"key": foreign})),
    );
    assert_eq!(wrong.status, 400);
    assert_eq!(
        wrong.json,
        json!({"errors": ["unseal failed, invalid key"]})
    );
    let status = server.send("GET", "/v1/sys/seal-status", Auth::None, None);
    assert_eq!(status.json["progress"], 0);
    assert_eq!(status.json["sealed"], true);

    // Reset drops progress; bad init configurations use Vault's texts.
    server.send(
        "PUT",
        "/v1/sys/unseal",
        Auth::None,
        Some(json!({"key": keys[1]})),
    );
    let reset = server.send(
        "PUT",
        "/v1/sys/unseal",
        Auth::None,
        Some(json!({"reset": true})),
    );
    assert_eq!(reset.json["progress"], 0);
    let bad = other.send(
        "PUT",
        "/v1/sys/init",
        Auth::None,
        Some(json!({"secret_shares": 3, "secret_threshold": 2})),
    );
    assert_eq!(bad.status, 400);
}

#[test]
fn init_rejects_bad_configuration() {
    let server = TlsServer::start();
    let cases = [
        (
            json!({"secret_shares": 3, "secret_threshold": 5}),
            "threshold cannot be larger than shares",
        ),
        (
            json!({"secret_shares": 4, "secret_threshold": 1}),
            "threshold must be greater than one for multiple shares",
        ),
        (
            json!({"secret_shares": 300, "secret_threshold": 3}),
            "shares must be less than 256",
        ),
        (
            json!({"secret_shares": 5, "secret_threshold": 3, "recovery_shares": 5}),
            "not applicable to seal type shamir",
        ),
    ];
    for (body, message) in cases {
        let reply = server.send("PUT", "/v1/sys/init", Auth::None, Some(body.clone()));
        assert_eq!(reply.status, 400, "{body}");
        let text = reply.json["errors"][0].as_str().unwrap();
        assert!(text.contains(message), "{body}: {text}");
    }
    assert_eq!(
        server.send("GET", "/v1/sys/init", Auth::None, None).json["initialized"],
        false
    );
}
