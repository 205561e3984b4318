//! Vault API behaviours that clients depend on, each from a reported
//! client breakage: deleted versus destroyed reads, LIST rules, health
//! codes, the Bearer header, and per-secret-id limits.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;
mod vault_support;

use common::TestServer;
use serde_json::json;
use vault_support::{Auth, bot_token, create_bot, grant, role_id, send, vault};

#[test]
fn deleted_and_destroyed_reads_keep_envelope() {
    let server = TestServer::start();
    let root = server.root_token.clone();
    let path = "/v1/secret/data/bots/invoice";
    for value in ["fake-v1", "fake-v2"] {
        assert_eq!(
            vault(
                &server,
                "POST",
                path,
                &root,
                Some(json!({"data": {"pw": value}}))
            )
            .status,
            200
        );
    }
    assert_eq!(vault(&server, "DELETE", path, &root, None).status, 204);

    // Step A: 404 with the read envelope and no `errors` key; no fallback.
    let a = vault(&server, "GET", path, &root, None);
    assert_eq!(a.status, 404);
    assert_eq!(a.content_type.as_deref(), Some("application/json"));
    assert!(a.json.get("errors").is_none(), "{}", a.text);
    assert_eq!(a.json["data"]["data"], serde_json::Value::Null);
    assert_eq!(a.json["data"]["metadata"]["version"], 2);
    assert_eq!(a.json["data"]["metadata"]["destroyed"], false);
    assert_ne!(a.json["data"]["metadata"]["deletion_time"], "");
    assert!(a.json["data"]["metadata"].get("custom_metadata").is_some());
    assert!(!a.text.contains("fake-v1"));

    // Step B: destroyed; undelete does not bring it back.
    assert_eq!(
        vault(
            &server,
            "POST",
            "/v1/secret/destroy/bots/invoice",
            &root,
            Some(json!({"versions": [2]}))
        )
        .status,
        204
    );
    assert_eq!(
        vault(
            &server,
            "POST",
            "/v1/secret/undelete/bots/invoice",
            &root,
            Some(json!({"versions": [2]}))
        )
        .status,
        204
    );
    let b = vault(&server, "GET", path, &root, None);
    assert_eq!(b.status, 404);
    assert_eq!(b.json["data"]["metadata"]["destroyed"], true);
    assert_eq!(b.json["data"]["data"], serde_json::Value::Null);
    let metadata = vault(
        &server,
        "GET",
        "/v1/secret/metadata/bots/invoice",
        &root,
        None,
    );
    assert_eq!(metadata.json["data"]["current_version"], 2);
    assert_eq!(metadata.json["data"]["versions"]["2"]["destroyed"], true);
    assert_eq!(metadata.json["data"]["delete_version_after"], "0s");

    // Step C: version 1 still reads.
    let c = vault(&server, "GET", &format!("{path}?version=1"), &root, None);
    assert_eq!(c.status, 200);
    assert_eq!(c.json["data"]["data"], json!({"pw": "fake-v1"}));

    // A destroyed version that was never deleted has an empty deletion time.
    vault(
        &server,
        "POST",
        "/v1/secret/data/other",
        &root,
        Some(json!({"data": {"a": "b"}})),
    );
    vault(
        &server,
        "POST",
        "/v1/secret/destroy/other",
        &root,
        Some(json!({"versions": "1"})),
    );
    let destroyed = vault(&server, "GET", "/v1/secret/data/other", &root, None);
    assert_eq!(destroyed.status, 404);
    assert_eq!(destroyed.json["data"]["metadata"]["deletion_time"], "");

    // Unknown versions and keys: 404 with an empty errors array.
    assert_eq!(
        vault(&server, "GET", &format!("{path}?version=9"), &root, None).json,
        json!({"errors": []})
    );
    assert_eq!(
        vault(&server, "GET", "/v1/secret/data/nope", &root, None).json,
        json!({"errors": []})
    );
}

#[test]
fn list_method_query_and_empty_folders() {
    let server = TestServer::start();
    let root = server.root_token.clone();
    for path in ["apps/a1/db", "apps/a2/db", "apps/top"] {
        vault(
            &server,
            "POST",
            &format!("/v1/secret/data/{path}"),
            &root,
            Some(json!({"data": {"x": "y"}})),
        );
    }
    let one = vault(&server, "LIST", "/v1/secret/metadata/apps", &root, None);
    let two = vault(
        &server,
        "GET",
        "/v1/secret/metadata/apps/?list=true",
        &root,
        None,
    );
    assert_eq!(one.status, 200);
    assert_eq!(one.json["data"]["keys"], json!(["a1/", "a2/", "top"]));
    assert_eq!(two.json["data"], one.json["data"]);

    let three = vault(
        &server,
        "LIST",
        "/v1/secret/metadata/apps/empty",
        &root,
        None,
    );
    assert_eq!(three.status, 404);
    assert_eq!(three.json, json!({"errors": []}));
    let four = vault(&server, "LIST", "/v1/secret/data/apps", &root, None);
    assert_eq!(four.status, 405);
    assert!(four.json["errors"].is_array());
    assert_eq!(
        vault(
            &server,
            "GET",
            "/v1/secret/metadata/apps?list=maybe",
            &root,
            None
        )
        .status,
        400
    );

    assert_eq!(
        vault(
            &server,
            "DELETE",
            "/v1/secret/metadata/apps/a2/db",
            &root,
            None
        )
        .status,
        204
    );
    let after = vault(&server, "LIST", "/v1/secret/metadata/apps", &root, None);
    assert_eq!(after.json["data"]["keys"], json!(["a1/", "top"]));
    assert_eq!(
        vault(&server, "LIST", "/v1/secret/metadata/apps/a1", &root, None).status,
        200
    );
    assert_eq!(
        vault(&server, "LIST", "/v1/secret/metadata", &root, None).json["data"]["keys"],
        json!(["apps/"])
    );
}

#[test]
fn health_codes_and_bodies() {
    let mut server = TestServer::start();
    let key = vault_support::dev_unseal_key(&server);
    let check = |server: &TestServer, query: &str, expected: u16, sealed: bool| {
        let reply = send(
            &server.addr,
            "GET",
            &format!("/v1/sys/health{query}"),
            Auth::None,
            None,
        );
        assert_eq!(reply.status, expected, "{query}");
        assert_eq!(reply.json["sealed"], sealed, "{query}");
        for field in [
            "initialized",
            "standby",
            "performance_standby",
            "server_time_utc",
            "version",
        ] {
            assert!(
                reply.json.get(field).is_some(),
                "{field} missing for {query}"
            );
        }
        assert!(reply.json.get("errors").is_none());
    };
    let overrides = "?uninitcode=299&sealedcode=299&standbycode=299&drsecondarycode=299&performancestandbycode=299&removedcode=299&haunhealthycode=299";
    check(&server, "", 200, false);
    check(&server, overrides, 200, false);
    check(&server, "?activecode=299", 299, false);
    assert_eq!(
        send(
            &server.addr,
            "GET",
            "/v1/sys/health?sealedcode=abc",
            Auth::None,
            None
        )
        .status,
        400
    );
    assert_eq!(
        send(
            &server.addr,
            "GET",
            "/v1/sys/health?sealedcode=abc",
            Auth::None,
            None
        )
        .json,
        json!({"errors": []})
    );
    let head = send(&server.addr, "HEAD", "/v1/sys/health", Auth::None, None);
    assert_eq!(head.status, 200);
    assert!(head.text.is_empty());
    assert_eq!(
        send(&server.addr, "POST", "/v1/sys/health", Auth::None, None).status,
        405
    );

    server.restart();
    check(&server, "", 503, true);
    check(&server, "?sealedcode=200&uninitcode=200", 200, true);
    check(&server, overrides, 299, true);
    let head = send(&server.addr, "HEAD", "/v1/sys/health", Auth::None, None);
    assert_eq!(head.status, 503);
    let status = send(&server.addr, "GET", "/v1/sys/seal-status", Auth::None, None);
    assert_eq!(status.status, 200);
    assert_eq!(status.json["sealed"], true);
    assert_eq!(status.json["t"], 1);
    let unsealed = send(
        &server.addr,
        "PUT",
        "/v1/sys/unseal",
        Auth::None,
        Some(&json!({"key": key})),
    );
    assert_eq!(unsealed.json["sealed"], false);
    check(&server, "", 200, false);
}

#[test]
fn bearer_header_and_token_precedence() {
    let server = TestServer::start();
    let root = server.root_token.clone();
    create_bot(&server, "invoice-bot");
    create_bot_named(&server, "idle-bot");
    grant(&server, "invoice-bot", "bots/*", &["read"]);
    vault(
        &server,
        "POST",
        "/v1/secret/data/bots/invoice",
        &root,
        Some(json!({"data": {"pw": "fake"}})),
    );
    let granted = bot_token(&server, "invoice-bot");
    let no_grants = bot_token(&server, "idle-bot");
    let path = "/v1/secret/data/bots/invoice";

    let one = send(&server.addr, "GET", path, Auth::Bearer(&granted), None);
    assert_eq!(one.status, 200, "{}", one.text);
    let two = send(
        &server.addr,
        "GET",
        "/v1/auth/token/lookup-self",
        Auth::Bearer(&granted),
        None,
    );
    assert_eq!(two.status, 200);
    assert_eq!(two.json["data"]["id"], granted.as_str());

    let both = reqwest::blocking::Client::new()
        .get(format!("{}{path}", server.addr))
        .header("X-Vault-Token", &no_grants)
        .header("Authorization", format!("Bearer {granted}"))
        .send()
        .unwrap();
    assert_eq!(both.status().as_u16(), 403);
    assert_eq!(
        both.json::<serde_json::Value>().unwrap()["errors"][0],
        "1 error occurred:\n\t* permission denied\n\n"
    );

    for header in ["Basic Ym90OnB3", "Bearer", "bearer abc"] {
        let reply = send(
            &server.addr,
            "GET",
            path,
            Auth::Raw("Authorization", header),
            None,
        );
        assert_eq!(reply.status, 403, "{header}");
        assert_eq!(
            reply.json,
            json!({"errors": ["permission denied"]}),
            "{header}"
        );
    }

    // The audit names the bot and the accessor, never the token.
    let (status, audit) = server.call("GET", "/v1/audit?action=secret.read", None);
    assert_eq!(status, 200, "{audit}");
    assert!(!audit.to_string().contains(&granted));
    assert!(!audit.to_string().contains(&no_grants));
}

fn create_bot_named(server: &TestServer, name: &str) {
    let (status, body) = server.call(
        "POST",
        "/v1/bots",
        Some(
            json!({"name": name, "purpose": "Idles without grants.", "owner": "ana@example.com",
                    "backup_owner": "bo@example.com", "platform": "uipath"}),
        ),
    );
    assert_eq!(status, 201, "{body}");
}

#[test]
fn secret_id_limits_follow_role() {
    let server = TestServer::start();
    let root = server.root_token.clone();
    create_bot(&server, "invoice-bot");
    let role_path = "/v1/auth/approle/role/invoice-bot";
    let configure = vault(
        &server,
        "POST",
        role_path,
        &root,
        Some(json!({"secret_id_num_uses": 2, "secret_id_ttl": 600, "token_ttl": 900})),
    );
    assert_eq!(configure.status, 204, "{}", configure.text);
    let secret_path = format!("{role_path}/secret-id");

    let one = vault(
        &server,
        "POST",
        &secret_path,
        &root,
        Some(json!({"num_uses": 1})),
    );
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!(one.json["data"]["secret_id_num_uses"], 1);
    assert_eq!(one.json["data"]["secret_id_ttl"], 600);
    assert!(one.json["data"]["secret_id_accessor"].is_string());

    let cases = [
        (
            json!({"num_uses": 3}),
            "num_uses cannot be higher than the role's secret_id_num_uses",
        ),
        (
            json!({"num_uses": 0}),
            "num_uses cannot be higher than the role's secret_id_num_uses",
        ),
        (
            json!({"ttl": 3600}),
            "ttl cannot be longer than the role's secret_id_ttl",
        ),
        (json!({"num_uses": -1}), "num_uses cannot be negative"),
    ];
    for (body, message) in cases {
        let reply = vault(&server, "POST", &secret_path, &root, Some(body.clone()));
        assert_eq!(reply.status, 400, "{body}");
        assert_eq!(reply.json, json!({"errors": [message]}), "{body}");
    }

    let role = role_id(&server, "invoice-bot");
    let secret = one.json["data"]["secret_id"].as_str().unwrap();
    let login = json!({"role_id": role, "secret_id": secret});
    let first = send(
        &server.addr,
        "POST",
        "/v1/auth/approle/login",
        Auth::None,
        Some(&login),
    );
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.json["auth"]["lease_duration"], 900);
    let second = send(
        &server.addr,
        "POST",
        "/v1/auth/approle/login",
        Auth::None,
        Some(&login),
    );
    assert_eq!(second.status, 400);
    assert_eq!(
        second.json,
        json!({"errors": ["invalid role or secret ID"]})
    );

    // The failed login is audited against the bot.
    let (_, bot) = server.call("GET", "/v1/bots/invoice-bot", None);
    let bot_id = bot["id"].as_str().unwrap();
    let (_, audit) = server.call(
        "GET",
        &format!("/v1/audit?action=approle.login&bot={bot_id}"),
        None,
    );
    let text = audit.to_string();
    assert!(text.contains("denied"), "{text}");
    assert!(!text.contains(secret));

    // A secret id past its TTL fails the same way, even with uses left.
    let two = vault(
        &server,
        "POST",
        &secret_path,
        &root,
        Some(json!({"num_uses": 2})),
    );
    server.advance_clock("11m");
    let expired = json!({"role_id": role, "secret_id": two.json["data"]["secret_id"]});
    let reply = send(
        &server.addr,
        "POST",
        "/v1/auth/approle/login",
        Auth::None,
        Some(&expired),
    );
    assert_eq!(reply.status, 400);
    assert_eq!(reply.json, json!({"errors": ["invalid role or secret ID"]}));
}

#[test]
fn namespace_header_root_only_and_echoed() {
    let server = TestServer::start();
    let root = server.root_token.clone();
    vault(
        &server,
        "POST",
        "/v1/secret/data/ns",
        &root,
        Some(json!({"data": {"a": "b"}})),
    );
    let client = reqwest::blocking::Client::new();
    for namespace in ["", "root", "root/"] {
        let response = client
            .get(format!("{}/v1/secret/data/ns", server.addr))
            .header("X-Vault-Token", &root)
            .header("X-Vault-Namespace", namespace)
            .send()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "{namespace:?}");
        assert_eq!(response.headers()["x-vault-namespace"], namespace);
    }
    let other = client
        .get(format!("{}/v1/secret/data/ns", server.addr))
        .header("X-Vault-Token", &root)
        .header("X-Vault-Namespace", "team-a")
        .send()
        .unwrap();
    assert_eq!(other.status().as_u16(), 400);
    assert_eq!(other.headers()["x-vault-namespace"], "team-a");
    let body: serde_json::Value = other.json().unwrap();
    assert!(body["errors"][0].as_str().unwrap().contains("team-a"));
}
