//! Rotation of PostgreSQL login roles through the real binary and the
//! PostgreSQL server named by WARD_TEST_POSTGRES_URL: on demand, on a
//! schedule, a failing target, and dynamic credentials with leases.
//!
//! The test server may trust loopback logins, so passwords are judged by
//! comparing the role's stored SCRAM verifier (`PgAdmin::check_password`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;
mod rotation_support;
mod vault_support;

use common::TestServer;
use rotation_support::{
    Session, audit_of, create_role, drop_role, password_matches, postgres_url,
    put_postgres_connector, put_target, read_secret, role_exists, unique, url_with_password,
    write_secret,
};
use serde_json::json;
use vault_support::{bot_token, create_bot, grant, vault};

const INITIAL: &str = "Initial-Password-0001";

/// A bot `erp-bot` that reads `erp/db`, whose password is the role's.
struct Fixture {
    server: TestServer,
    url: String,
    role: String,
    token: String,
}

impl Fixture {
    fn start(url: String) -> Fixture {
        let server = TestServer::start();
        let role = unique("wr");
        create_role(&url, &role, INITIAL);
        create_bot(&server, "erp-bot");
        grant(&server, "erp-bot", "erp/*", &["read"]);
        write_secret(
            &server,
            "erp/db",
            json!({"username": role, "password": INITIAL}),
        );
        let (status, body) = server.call(
            "PUT",
            "/v1/vault/policies/erp/db",
            Some(json!({"interval": "30d", "grace": "1h", "owners": ["erp-bot"]})),
        );
        assert_eq!(status, 200, "{body}");
        let token = bot_token(&server, "erp-bot");
        Fixture {
            server,
            url,
            role,
            token,
        }
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        drop_role(&self.url, &self.role);
    }
}

#[test]
fn on_demand_rotation_changes_role_password() {
    let Some(url) = postgres_url() else { return };
    let fixture = Fixture::start(url.clone());
    let server = &fixture.server;
    let admin_password = "Admin-Url-Canary-7731";
    let connector =
        put_postgres_connector(server, "erp-pg", &url_with_password(&url, admin_password));
    assert!(
        !connector.to_string().contains(admin_password),
        "{connector}"
    );
    assert_eq!(connector["kind"], "postgres");
    put_target(server, "erp/db", "erp-pg", &fixture.role);

    // The bot reads version 1 and opens a session before the rotation.
    let (before, version) = read_secret(server, &fixture.token, "erp/db", None);
    assert_eq!(version, 1);
    assert_eq!(before["password"], INITIAL);
    let mut session = Session::open(&url, &fixture.role, INITIAL);
    assert!(session.works());

    let (status, body) = server.call("POST", "/v1/vault/rotate", Some(json!({"path": "erp/db"})));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["version"], 2);
    assert_eq!(body["connector"], "erp-pg");
    assert_eq!(body["receipt"]["kind"], "postgres");
    let rotation_id = body["rotation_id"].as_str().unwrap().to_string();

    // The bot reads the new password, the role has it, the old one is gone.
    let (after, version) = read_secret(server, &fixture.token, "erp/db", None);
    assert_eq!(version, 2);
    assert_eq!(after["username"], fixture.role.as_str());
    let new_password = after["password"].as_str().unwrap();
    assert_ne!(new_password, INITIAL);
    assert_eq!(new_password.len(), 32);
    assert!(password_matches(&url, &fixture.role, new_password));
    assert!(!password_matches(&url, &fixture.role, INITIAL));

    // A session opened before the rotation keeps working, and the previous
    // version stays readable within the grace window.
    assert!(session.works());
    let (previous, _) = read_secret(server, &fixture.token, "erp/db", Some(1));
    assert_eq!(previous["password"], INITIAL);
    let mut fresh = Session::open(&url, &fixture.role, new_password);
    assert!(fresh.works());

    // Audited as a success with the connector and rotation id, no value.
    let entries = audit_of(server, "secret.rotate");
    let entry = entries
        .iter()
        .find(|e| e["details"]["rotation_id"] == rotation_id.as_str())
        .unwrap_or_else(|| panic!("no audit entry for {rotation_id}: {entries:?}"));
    assert_eq!(entry["outcome"], "success");
    assert_eq!(entry["details"]["connector_kind"], "postgres");
    assert_eq!(entry["details"]["version"], 2);
    let text = serde_json::to_string(&entries).unwrap();
    assert!(!text.contains(new_password));
    assert!(!text.contains(INITIAL));

    // The connector's admin password is neither returned nor stored in clear.
    let (status, listed) = server.call("GET", "/v1/vault/connectors", None);
    assert_eq!(status, 200);
    assert!(!listed.to_string().contains(admin_password), "{listed}");
    let database = std::fs::read(server.db_path()).unwrap();
    let needle = admin_password.as_bytes();
    assert!(
        !database
            .windows(needle.len())
            .any(|window| window == needle)
    );
    assert!(!server.log().contains(admin_password));
    assert!(!server.log().contains(new_password));

    // After the one-hour grace window the previous version is deleted.
    server.advance_clock("61m");
    let expired = vault(
        server,
        "GET",
        "/v1/secret/data/erp/db?version=1",
        &server.root_token,
        None,
    );
    assert_eq!(expired.status, 404, "{}", expired.text);
    let (current, version) = read_secret(server, &server.root_token, "erp/db", None);
    assert_eq!(version, 2);
    assert_eq!(current["password"], new_password);
}

#[test]
fn failed_rotation_keeps_old_version() {
    let Some(url) = postgres_url() else { return };
    let fixture = Fixture::start(url.clone());
    let server = &fixture.server;
    put_postgres_connector(server, "erp-pg", &url);
    let missing_role = unique("wr_missing");
    put_target(server, "erp/db", "erp-pg", &missing_role);

    let (status, body) = server.call("POST", "/v1/vault/rotate", Some(json!({"path": "erp/db"})));
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "role_not_found");

    // Version 1 stays current and the role keeps its password.
    let (current, version) = read_secret(server, &fixture.token, "erp/db", None);
    assert_eq!(version, 1);
    assert_eq!(current["password"], INITIAL);
    assert!(password_matches(&url, &fixture.role, INITIAL));
    let metadata = vault(
        server,
        "GET",
        "/v1/secret/metadata/erp/db",
        &server.root_token,
        None,
    );
    assert_eq!(
        metadata.json["data"]["current_version"], 1,
        "{}",
        metadata.text
    );

    // Audited as a failure with the error code.
    let failures: Vec<_> = audit_of(server, "secret.rotate")
        .into_iter()
        .filter(|e| e["outcome"] == "failure")
        .collect();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["details"]["error_code"], "role_not_found");
    assert_eq!(failures[0]["details"]["restore"], "not_needed");
    let alert_id = failures[0]["details"]["alert"]
        .as_str()
        .unwrap()
        .to_string();

    // An open alert names the owner bot and the failure.
    let (status, alert) = server.call("GET", &format!("/v1/alerts/{alert_id}"), None);
    assert_eq!(status, 200, "{alert}");
    assert_eq!(alert["status"], "open");
    let bot_id = failures[0]["bot"].as_str().unwrap();
    assert_eq!(alert["identity"], bot_id);
    assert!(
        alert["summary"]
            .as_str()
            .unwrap()
            .contains("role_not_found"),
        "{alert}"
    );

    // The target's record shows the failure.
    let (_, target) = server.call("GET", "/v1/vault/targets/erp/db", None);
    assert_eq!(target["last_error_code"], "role_not_found");
}

#[test]
fn scheduled_rotation_after_interval() {
    let Some(url) = postgres_url() else { return };
    let fixture = Fixture::start(url.clone());
    let server = &fixture.server;
    put_postgres_connector(server, "erp-pg", &url);
    put_target(server, "erp/db", "erp-pg", &fixture.role);

    // Not due yet.
    let (status, report) = server.call("POST", "/v1/sys/jobs/rotation", None);
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["schedule"]["rotated"], json!([]));

    server.advance_clock("31d");
    let (status, report) = server.call("POST", "/v1/sys/jobs/rotation", None);
    assert_eq!(status, 200, "{report}");
    let rotated = report["schedule"]["rotated"].as_array().unwrap();
    assert_eq!(rotated.len(), 1, "{report}");
    assert_eq!(rotated[0]["path"], "erp/db");
    assert_eq!(rotated[0]["version"], 2);

    // The bot's first token expired during the 31 days; it logs in again.
    let token = bot_token(server, "erp-bot");
    let (after, version) = read_secret(server, &token, "erp/db", None);
    assert_eq!(version, 2);
    assert!(password_matches(
        &url,
        &fixture.role,
        after["password"].as_str().unwrap()
    ));
    let system_entries: Vec<_> = audit_of(server, "secret.rotate")
        .into_iter()
        .filter(|e| e["actor"] == "system" && e["outcome"] == "success")
        .collect();
    assert_eq!(system_entries.len(), 1);

    // Rotated just now, so the next run leaves it alone.
    let (_, report) = server.call("POST", "/v1/sys/jobs/rotation", None);
    assert_eq!(report["schedule"]["rotated"], json!([]));
}

/// A server with a dynamic config `main` and bot `etl-bot` allowed to use it.
fn dynamic_fixture(url: &str) -> (TestServer, String) {
    let server = TestServer::start();
    create_bot(&server, "etl-bot");
    let reply = vault(
        &server,
        "PUT",
        "/v1/database/config/main",
        &server.root_token,
        Some(json!({"admin_url": url, "role_prefix": "wt", "default_ttl": "1h", "max_ttl": "24h"})),
    );
    assert_eq!(reply.status, 204, "{}", reply.text);
    let token = bot_token(&server, "etl-bot");
    let denied = vault(&server, "GET", "/v1/database/creds/main", &token, None);
    assert_eq!(denied.status, 403, "{}", denied.text);
    grant(&server, "etl-bot", "database/creds/main", &["read"]);
    (server, token)
}

fn issue(server: &TestServer, token: &str) -> (String, String, String) {
    let reply = vault(server, "GET", "/v1/database/creds/main", token, None);
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["lease_duration"], 3600);
    assert_eq!(reply.json["renewable"], true);
    let lease_id = reply.json["lease_id"].as_str().unwrap().to_string();
    assert!(
        lease_id.starts_with("database/creds/main/lse_"),
        "{lease_id}"
    );
    let username = reply.json["data"]["username"].as_str().unwrap().to_string();
    let password = reply.json["data"]["password"].as_str().unwrap().to_string();
    assert!(username.starts_with("wt_"), "{username}");
    (lease_id, username, password)
}

#[test]
fn dynamic_creds_issue_revoke_and_reap() {
    let Some(url) = postgres_url() else { return };
    let (server, token) = dynamic_fixture(&url);

    // Issue, use, revoke.
    let (lease_id, username, first_password) = issue(&server, &token);
    assert!(role_exists(&url, &username));
    assert!(password_matches(&url, &username, &first_password));

    // Another bot may not end this bot's lease.
    create_bot(&server, "other-bot");
    let other_token = bot_token(&server, "other-bot");
    let foreign = vault(
        &server,
        "PUT",
        "/v1/sys/leases/revoke",
        &other_token,
        Some(json!({"lease_id": lease_id})),
    );
    assert_eq!(foreign.status, 403, "{}", foreign.text);
    assert!(role_exists(&url, &username));
    let denials: Vec<_> = audit_of(&server, "database.lease.revoke")
        .into_iter()
        .filter(|e| e["outcome"] == "denied")
        .collect();
    assert_eq!(denials.len(), 1, "{denials:?}");
    assert_eq!(
        denials[0]["details"]["reason"],
        "the lease belongs to another bot"
    );
    let revoked = vault(
        &server,
        "PUT",
        "/v1/sys/leases/revoke",
        &token,
        Some(json!({"lease_id": lease_id})),
    );
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    assert!(!role_exists(&url, &username));

    // Renew moves the expiry; the reaper drops the role once it passes.
    let (lease_id, username, _) = issue(&server, &token);
    let renewed = vault(
        &server,
        "PUT",
        "/v1/sys/leases/renew",
        &token,
        Some(json!({"lease_id": lease_id, "increment": "2h"})),
    );
    assert_eq!(renewed.status, 200, "{}", renewed.text);
    assert_eq!(renewed.json["lease_duration"], 7200);
    server.advance_clock("90m");
    let (_, report) = server.call("POST", "/v1/sys/jobs/rotation", None);
    assert_eq!(report["leases"]["revoked"], json!([]), "{report}");
    assert!(role_exists(&url, &username));
    server.advance_clock("31m");
    let (status, report) = server.call("POST", "/v1/sys/jobs/rotation", None);
    assert_eq!(status, 200, "{report}");
    let bare_id = lease_id.rsplit('/').next().unwrap();
    assert_eq!(report["leases"]["revoked"], json!([bare_id]), "{report}");
    assert!(!role_exists(&url, &username));

    let entries: Vec<_> = audit_of(&server, "database.lease.revoke")
        .into_iter()
        .filter(|e| e["outcome"] == "success")
        .collect();
    let reasons: Vec<_> = entries
        .iter()
        .map(|e| e["details"]["reason"].clone())
        .collect();
    assert_eq!(reasons.len(), 2, "{entries:?}");
    assert!(reasons.contains(&json!("expired")));
    assert!(reasons.contains(&json!("revoked")));
    let issued: Vec<_> = audit_of(&server, "database.creds")
        .into_iter()
        .filter(|e| e["outcome"] == "success")
        .collect();
    assert_eq!(issued.len(), 2, "{issued:?}");
    assert!(
        !serde_json::to_string(&issued)
            .unwrap()
            .contains(&first_password)
    );
}

#[test]
fn bot_suspension_revokes_leases() {
    let Some(url) = postgres_url() else { return };
    let (server, token) = dynamic_fixture(&url);
    let (_, username, _) = issue(&server, &token);
    assert!(role_exists(&url, &username));

    let (status, body) = server.call(
        "POST",
        "/v1/bots/etl-bot/suspend",
        Some(json!({"reason": "credential leak under investigation"})),
    );
    assert_eq!(status, 200, "{body}");
    // The suspension starts a reaper pass; running the job as well makes the
    // drop certain to have happened when it returns.
    let (status, report) = server.call("POST", "/v1/sys/jobs/rotation", None);
    assert_eq!(status, 200, "{report}");
    assert!(!role_exists(&url, &username));

    let suspend = audit_of(&server, "bot.suspend");
    assert_eq!(suspend.len(), 1);
    assert_eq!(suspend[0]["details"]["revoked_leases"], 1);
    let revokes = audit_of(&server, "database.lease.revoke");
    assert_eq!(revokes.len(), 1, "{revokes:?}");
    assert_eq!(revokes[0]["details"]["reason"], "revoked");
}
