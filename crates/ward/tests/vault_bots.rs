//! Bots and the vault through the real binary: grants decide every path,
//! denials are audited, tokens expire on the server's clock, and
//! suspending a bot revokes its tokens and secret ids at once.
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
use vault_support::{Auth, bot_token, create_bot, grant, role_id, secret_id, send, vault};

fn seed(server: &TestServer) {
    let root = server.root_token.clone();
    for (path, value) in [
        ("sap/finance/db", "fake-fin"),
        ("sap/finance/eu/db", "fake-eu"),
        ("sap/hr/db", "fake-hr"),
    ] {
        let reply = vault(
            server,
            "POST",
            &format!("/v1/secret/data/{path}"),
            &root,
            Some(json!({"data": {"pw": value}})),
        );
        assert_eq!(reply.status, 200, "{}", reply.text);
    }
}

#[test]
fn grants_decide_reads_lists_and_writes() {
    let server = TestServer::start();
    create_bot(&server, "invoice-bot");
    seed(&server);
    let token = bot_token(&server, "invoice-bot");

    // Nothing granted yet: denied, and the denial is audited.
    let denied = vault(
        &server,
        "GET",
        "/v1/secret/data/sap/finance/db",
        &token,
        None,
    );
    assert_eq!(denied.status, 403);
    assert_eq!(
        denied.json,
        json!({"errors": ["1 error occurred:\n\t* permission denied\n\n"]})
    );

    grant(&server, "invoice-bot", "sap/finance/*", &["read", "list"]);
    for path in ["sap/finance/db", "sap/finance/eu/db"] {
        let reply = vault(
            &server,
            "GET",
            &format!("/v1/secret/data/{path}"),
            &token,
            None,
        );
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
    }
    assert_eq!(
        vault(&server, "GET", "/v1/secret/data/sap/hr/db", &token, None).status,
        403
    );
    assert_eq!(
        vault(
            &server,
            "LIST",
            "/v1/secret/metadata/sap/finance",
            &token,
            None
        )
        .status,
        200
    );
    assert_eq!(
        vault(&server, "LIST", "/v1/secret/metadata/sap", &token, None).status,
        403
    );
    let write = vault(
        &server,
        "POST",
        "/v1/secret/data/sap/finance/db",
        &token,
        Some(json!({"data": {"pw": "x"}})),
    );
    assert_eq!(write.status, 403);
    let create = vault(
        &server,
        "POST",
        "/v1/secret/data/sap/finance/new",
        &token,
        Some(json!({"data": {"pw": "x"}})),
    );
    assert_eq!(create.status, 403);

    // create allows a new key but not a new version of an existing one.
    grant(&server, "invoice-bot", "sap/finance/*", &["create"]);
    assert_eq!(
        vault(
            &server,
            "POST",
            "/v1/secret/data/sap/finance/new",
            &token,
            Some(json!({"data": {"pw": "x"}}))
        )
        .status,
        200
    );
    assert_eq!(
        vault(
            &server,
            "POST",
            "/v1/secret/data/sap/finance/new",
            &token,
            Some(json!({"data": {"pw": "y"}}))
        )
        .status,
        403
    );

    // The KV preflight sees the grant; an ungranted path gets the preflight 403.
    let mounts = vault(
        &server,
        "GET",
        "/v1/sys/internal/ui/mounts/secret/sap/finance/db",
        &token,
        None,
    );
    assert_eq!(mounts.status, 200, "{}", mounts.text);
    assert_eq!(mounts.json["data"]["options"]["version"], "2");
    assert_eq!(mounts.json["data"]["path"], "secret/");
    let other = vault(
        &server,
        "GET",
        "/v1/sys/internal/ui/mounts/secret/payroll",
        &token,
        None,
    );
    assert_eq!(other.status, 403);
    assert!(
        other.json["errors"][0]
            .as_str()
            .unwrap()
            .starts_with("preflight capability check returned 403")
    );

    // Every read and every denial is in the audit, without the value.
    let (_, bot) = server.call("GET", "/v1/bots/invoice-bot", None);
    let bot_id = bot["id"].as_str().unwrap();
    let (status, audit) = server.call("GET", &format!("/v1/audit?bot={bot_id}&limit=500"), None);
    assert_eq!(status, 200, "{audit}");
    let text = audit.to_string();
    assert!(text.contains("secret.read"));
    assert!(text.contains("denied"));
    for value in ["fake-fin", "fake-eu", "fake-hr"] {
        assert!(!text.contains(value), "the audit contains {value}");
    }
    assert!(!text.contains(&token));
}

#[test]
fn token_expires_on_server_clock_and_renews() {
    let server = TestServer::start();
    create_bot(&server, "invoice-bot");
    seed(&server);
    grant(&server, "invoice-bot", "sap/*", &["read"]);
    let token = bot_token(&server, "invoice-bot");
    let lookup = vault(&server, "GET", "/v1/auth/token/lookup-self", &token, None);
    assert_eq!(
        lookup.json["data"]["ttl"].as_i64().unwrap() / 60,
        14,
        "default TTL is 15 minutes"
    );
    assert_eq!(lookup.json["data"]["renewable"], true);

    server.advance_clock("14m");
    assert_eq!(
        vault(&server, "GET", "/v1/secret/data/sap/hr/db", &token, None).status,
        200
    );
    let renewed = vault(
        &server,
        "POST",
        "/v1/auth/token/renew-self",
        &token,
        Some(json!({"increment": "10m"})),
    );
    assert_eq!(renewed.status, 200, "{}", renewed.text);
    assert_eq!(renewed.json["auth"]["lease_duration"], 600);
    server.advance_clock("9m");
    assert_eq!(
        vault(&server, "GET", "/v1/secret/data/sap/hr/db", &token, None).status,
        200
    );
    server.advance_clock("2m");
    let expired = vault(&server, "GET", "/v1/secret/data/sap/hr/db", &token, None);
    assert_eq!(expired.status, 403);
    assert_eq!(expired.json, json!({"errors": ["permission denied"]}));
    assert_eq!(
        vault(&server, "GET", "/v1/auth/token/lookup-self", &token, None).status,
        403
    );
}

#[test]
fn renewal_past_max_ttl_is_capped_with_warning() {
    let server = TestServer::start();
    create_bot(&server, "invoice-bot");
    let root = server.root_token.clone();
    let configure = vault(
        &server,
        "POST",
        "/v1/auth/approle/role/invoice-bot",
        &root,
        Some(json!({"token_ttl": "15m", "token_max_ttl": "30m"})),
    );
    assert_eq!(configure.status, 204, "{}", configure.text);
    let token = bot_token(&server, "invoice-bot");
    server.advance_clock("10m");
    let first = vault(
        &server,
        "PUT",
        "/v1/auth/token/renew-self",
        &token,
        Some(json!({"increment": "10m"})),
    );
    assert_eq!(first.json["auth"]["lease_duration"], 600);
    assert_eq!(first.json["warnings"], serde_json::Value::Null);
    server.advance_clock("7m");
    let renewed = vault(
        &server,
        "PUT",
        "/v1/auth/token/renew-self",
        &token,
        Some(json!({"increment": 3600})),
    );
    assert_eq!(renewed.status, 200, "{}", renewed.text);
    let lease = renewed.json["auth"]["lease_duration"].as_i64().unwrap();
    assert!((770..=780).contains(&lease), "lease {lease}");
    let warning = renewed.json["warnings"][0].as_str().unwrap();
    assert!(
        warning.starts_with("TTL of \"1h\" exceeded the effective max_ttl of \""),
        "{warning}"
    );
    assert!(
        warning.ends_with("\"; TTL value is capped accordingly"),
        "{warning}"
    );
}

#[test]
fn suspend_revokes_tokens_and_secret_ids() {
    let server = TestServer::start();
    create_bot(&server, "invoice-bot");
    seed(&server);
    grant(&server, "invoice-bot", "sap/*", &["read"]);
    let first = bot_token(&server, "invoice-bot");
    let second = bot_token(&server, "invoice-bot");
    let role = role_id(&server, "invoice-bot");
    let unused = secret_id(&server, "invoice-bot", json!({}));
    assert_eq!(
        vault(&server, "GET", "/v1/secret/data/sap/hr/db", &first, None).status,
        200
    );

    let (status, body) = server.call(
        "POST",
        "/v1/bots/invoice-bot/suspend",
        Some(json!({"reason": "anomalous reads"})),
    );
    assert_eq!(status, 200, "{body}");
    for token in [&first, &second] {
        assert_eq!(
            vault(&server, "GET", "/v1/secret/data/sap/hr/db", token, None).status,
            403
        );
        assert_eq!(
            vault(&server, "GET", "/v1/auth/token/lookup-self", token, None).status,
            403
        );
    }
    let login = send(
        &server.addr,
        "POST",
        "/v1/auth/approle/login",
        Auth::None,
        Some(&json!({"role_id": role, "secret_id": unused})),
    );
    assert_eq!(login.status, 400);
    assert_eq!(login.json, json!({"errors": ["invalid role or secret ID"]}));

    // The suspension's audit entry counts what was revoked.
    let (_, audit) = server.call("GET", "/v1/audit?action=bot.suspend", None);
    let details: serde_json::Value =
        serde_json::from_str(audit[0]["details"].as_str().unwrap()).unwrap();
    assert_eq!(details["revoked_tokens"], 2, "{details}");
    assert_eq!(
        details["revoked_secret_ids"], 3,
        "two used for the logins and one unused: {details}"
    );

    // A suspended bot gets no new secret id either.
    let path = "/v1/auth/approle/role/invoice-bot/secret-id";
    assert_eq!(
        vault(&server, "POST", path, &server.root_token, Some(json!({}))).status,
        400
    );
}

#[test]
fn kv_writes_check_and_set_and_patch() {
    let server = TestServer::start();
    let root = server.root_token.clone();
    let path = "/v1/secret/data/apps/db";
    let created = vault(
        &server,
        "POST",
        path,
        &root,
        Some(json!({"data": {"user": "u", "pw": "p1"}, "options": {"cas": 0}})),
    );
    assert_eq!(created.status, 200);
    assert_eq!(created.json["data"]["version"], 1);
    assert_eq!(created.json["data"]["deletion_time"], "");
    let mismatch = vault(
        &server,
        "PUT",
        path,
        &root,
        Some(json!({"data": {"pw": "p2"}, "options": {"cas": 0}})),
    );
    assert_eq!(mismatch.status, 400);
    assert_eq!(
        mismatch.json,
        json!({"errors": ["check-and-set parameter did not match the current version"]})
    );
    let bad_cas = vault(
        &server,
        "PUT",
        path,
        &root,
        Some(json!({"data": {"pw": "p2"}, "options": {"cas": "x"}})),
    );
    assert_eq!(
        bad_cas.json,
        json!({"errors": ["error parsing check-and-set parameter"]})
    );
    assert_eq!(
        vault(&server, "PUT", path, &root, Some(json!({"options": {}}))).json,
        json!({"errors": ["no data provided"]})
    );

    let wrong_type = vault(
        &server,
        "PATCH",
        path,
        &root,
        Some(json!({"data": {"pw": "p2"}})),
    );
    assert_eq!(wrong_type.status, 415);
    let patched = reqwest::blocking::Client::new()
        .patch(format!("{}{path}", server.addr))
        .header("X-Vault-Token", &root)
        .header("Content-Type", "application/merge-patch+json")
        .body(json!({"data": {"pw": "p2", "user": null}}).to_string())
        .send()
        .unwrap();
    assert_eq!(patched.status().as_u16(), 200);
    let read = vault(&server, "GET", path, &root, None);
    assert_eq!(read.json["data"]["data"], json!({"pw": "p2"}));
    assert_eq!(read.json["data"]["metadata"]["version"], 2);

    let meta = vault(
        &server,
        "POST",
        "/v1/secret/metadata/apps/db",
        &root,
        Some(json!({"max_versions": 2, "custom_metadata": {"owner": "ops"}})),
    );
    assert_eq!(meta.status, 204);
    vault(
        &server,
        "POST",
        path,
        &root,
        Some(json!({"data": {"pw": "p3"}})),
    );
    let metadata = vault(&server, "GET", "/v1/secret/metadata/apps/db", &root, None);
    assert_eq!(metadata.json["data"]["oldest_version"], 2);
    assert_eq!(
        metadata.json["data"]["custom_metadata"],
        json!({"owner": "ops"})
    );
    assert_eq!(
        vault(&server, "GET", &format!("{path}?version=1"), &root, None).status,
        404
    );
    let empty = vault(
        &server,
        "POST",
        "/v1/secret/delete/apps/db",
        &root,
        Some(json!({"versions": []})),
    );
    assert_eq!(
        empty.json,
        json!({"errors": ["No version number provided"]})
    );
    assert_eq!(
        vault(&server, "GET", "/v1/secret/config", &root, None).json["data"]["max_versions"],
        0
    );
    assert_eq!(
        vault(&server, "GET", "/v1/secret/unknown/x", &root, None).status,
        404
    );
}

#[test]
fn cidr_bound_login_fails_like_any_other() {
    let server = TestServer::start();
    create_bot(&server, "invoice-bot");
    let role = role_id(&server, "invoice-bot");
    let bound = secret_id(&server, "invoice-bot", json!({"cidr_list": "10.99.0.0/16"}));

    let login = send(
        &server.addr,
        "POST",
        "/v1/auth/approle/login",
        Auth::None,
        Some(&json!({"role_id": role, "secret_id": bound})),
    );
    assert_eq!(login.status, 400);
    assert_eq!(login.json, json!({"errors": ["invalid role or secret ID"]}));

    // The reason stays in the audit log for the operators.
    let (_, audit) = server.call("GET", "/v1/audit?action=approle.login", None);
    let denied = audit.as_array().unwrap().last().unwrap().clone();
    assert_eq!(denied["outcome"], "denied");
    assert!(
        denied["details"].as_str().unwrap().contains("CIDR"),
        "{denied}"
    );
}
