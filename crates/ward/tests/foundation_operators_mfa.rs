//! Operators through the real server: creation with a TOTP secret shown once,
//! sign-in with a second factor, lockout after failures, sessions as bearer
//! tokens, and role checks, each with its audit entries.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod common;

use common::{TestServer, expect_exit, server_unix_time, totp_code};
use serde_json::{Value, json};

const PASSWORD: &str = "correct-horse-battery-1";

fn login_raw(server: &TestServer, body: Value) -> (u16, Value) {
    server.call_as("", "POST", "/v1/auth/login", Some(body))
}

#[test]
fn operator_secret_shown_once() {
    let server = TestServer::start();
    let person = server.add_person("Ana Silva", "ana@example.com");
    let (status, created) = server.call(
        "POST",
        "/v1/operators",
        Some(
            json!({"person": person, "username": "ana", "password": PASSWORD, "roles": ["admin"]}),
        ),
    );
    assert_eq!(status, 201, "{created}");
    let secret = created["totp_secret"].as_str().unwrap();
    assert!(secret.len() >= 16, "{created}");
    assert!(
        created["totp_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    assert!(
        created["operator"].get("password_hash").is_none(),
        "{created}"
    );

    let (status, listed) = server.call("GET", "/v1/operators", None);
    assert_eq!(status, 200);
    let text = listed.to_string();
    assert!(text.contains("\"ana\""), "{text}");
    assert!(
        !text.contains(secret),
        "the list must not show the TOTP secret"
    );
    assert!(
        !text.contains("argon2"),
        "the list must not show the password hash"
    );

    let entries = server.audit("action=operator.create");
    assert_eq!(entries.len(), 1);
    assert!(!entries[0].to_string().contains(secret));
}

#[test]
fn operator_create_rejects_bad_input() {
    let server = TestServer::start();
    let person = server.add_person("Ana Silva", "ana@example.com");
    let valid =
        json!({"person": person, "username": "ana", "password": PASSWORD, "roles": ["builder"]});
    let cases = [
        (
            "short password",
            "password",
            json!("short-pw"),
            "invalid_field",
        ),
        ("unknown role", "roles", json!(["wizard"]), "invalid_field"),
        ("no roles", "roles", json!([]), "missing_field"),
        (
            "bad username",
            "username",
            json!("ana silva"),
            "invalid_field",
        ),
        (
            "unknown person",
            "person",
            json!("nobody@example.com"),
            "invalid_field",
        ),
    ];
    for (case, field, value, code) in cases {
        let mut body = valid.clone();
        body[field] = value;
        let (status, answer) = server.call("POST", "/v1/operators", Some(body));
        assert_eq!(status, 400, "{case}: {answer}");
        assert_eq!(answer["error"]["code"], code, "{case}: {answer}");
        assert_eq!(answer["error"]["field"], field, "{case}: {answer}");
    }
}

#[test]
fn mfa_roles_need_valid_totp() {
    let server = TestServer::start();
    let person = server.add_person("Ana Silva", "ana@example.com");
    let (_, secret) = server.add_operator(&person, "ana", PASSWORD, &["builder"]);
    // Move the clock so a code for the machine's time would be wrong.
    server.advance_clock("1h");
    let now = server_unix_time(&server);

    let cases = [
        ("no code", json!({"username": "ana", "password": PASSWORD})),
        (
            "wrong code",
            json!({"username": "ana", "password": PASSWORD, "totp": "000000"}),
        ),
        (
            "code for the wrong time",
            json!({"username": "ana", "password": PASSWORD, "totp": totp_code(&secret, now - 3600)}),
        ),
        (
            "wrong password",
            json!({"username": "ana", "password": "wrong-password-12", "totp": totp_code(&secret, now)}),
        ),
        (
            "unknown user",
            json!({"username": "nobody", "password": PASSWORD, "totp": totp_code(&secret, now)}),
        ),
    ];
    for (case, body) in cases {
        let (status, answer) = login_raw(&server, body);
        assert_eq!(status, 401, "{case}: {answer}");
        assert_eq!(answer["error"]["code"], "unauthorized", "{case}: {answer}");
        assert!(answer.get("token").is_none());
    }
    let (status, answer) = server.login("ana", PASSWORD, &secret);
    assert_eq!(status, 200, "{answer}");
    assert!(answer["token"].as_str().unwrap().starts_with("wrd_"));
    assert_eq!(answer["roles"], json!(["builder"]));

    let denied: Vec<Value> = server
        .audit("action=auth.login")
        .into_iter()
        .filter(|e| e["outcome"] == "denied")
        .collect();
    assert_eq!(denied.len(), 5, "{denied:#?}");
    let successes = server
        .audit("action=auth.login")
        .into_iter()
        .filter(|e| e["outcome"] == "success")
        .count();
    assert_eq!(successes, 1);
}

#[test]
fn auditor_signs_in_without_totp() {
    let server = TestServer::start();
    let person = server.add_person("Ana Silva", "ana@example.com");
    server.add_operator(&person, "ana", PASSWORD, &["auditor"]);
    let (status, answer) = login_raw(&server, json!({"username": "ana", "password": PASSWORD}));
    assert_eq!(status, 200, "{answer}");
}

#[test]
fn five_failures_lock_account() {
    let server = TestServer::start();
    let person = server.add_person("Ana Silva", "ana@example.com");
    let (operator, secret) = server.add_operator(&person, "ana", PASSWORD, &["approver"]);
    for attempt in 1..=5 {
        let (status, answer) = login_raw(
            &server,
            json!({"username": "ana", "password": "wrong-password-12", "totp": "123456"}),
        );
        assert_eq!(status, 401, "attempt {attempt}: {answer}");
    }
    let (status, answer) = server.login("ana", PASSWORD, &secret);
    assert_eq!(
        status, 429,
        "the right password is refused while locked: {answer}"
    );
    assert_eq!(answer["error"]["code"], "account_locked");

    let lockouts = server.audit("action=auth.lockout");
    assert_eq!(lockouts.len(), 1, "{lockouts:#?}");
    assert_eq!(lockouts[0]["target"], operator.as_str());
    let denied = server.audit(&format!("actor={operator}&action=auth.login"));
    assert_eq!(
        denied.len(),
        6,
        "five failures and one locked attempt: {denied:#?}"
    );
    assert!(denied.iter().all(|e| e["outcome"] == "denied"));

    server.advance_clock("16m");
    let (status, answer) = login_raw(
        &server,
        json!({"username": "ana", "password": "wrong-password-12", "totp": "123456"}),
    );
    assert_eq!(
        status, 401,
        "after the lock, failures count from zero: {answer}"
    );
    let (status, answer) = server.login("ana", PASSWORD, &secret);
    assert_eq!(status, 200, "the lock ends after 15 minutes: {answer}");
}

#[test]
fn session_token_works_as_bearer() {
    let server = TestServer::start();
    let (operator, token) = server.operator_session("ana", &["builder"]);
    let (status, me) = server.call_as(&token, "GET", "/v1/auth/whoami", None);
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["operator_id"], operator.as_str());
    assert_eq!(me["roles"], json!(["builder"]));

    let client = reqwest::blocking::Client::new();
    let lowercase = client
        .get(format!("{}/v1/auth/whoami", server.addr))
        .header("authorization", format!("bearer {token}"))
        .send()
        .unwrap();
    assert_eq!(
        lowercase.status().as_u16(),
        401,
        "only the exact `Bearer ` scheme is read"
    );

    for bad in ["", "wrd_not-a-real-token"] {
        let (status, answer) = server.call_as(bad, "GET", "/v1/bots", None);
        assert_eq!(status, 401, "{bad:?}: {answer}");
    }
    let rejected = server.audit("action=auth.rejected");
    assert!(rejected.len() >= 3, "{rejected:#?}");

    let (status, _) = server.call_as(&token, "POST", "/v1/auth/logout", None);
    assert_eq!(status, 204);
    let (status, _) = server.call_as(&token, "GET", "/v1/auth/whoami", None);
    assert_eq!(status, 401, "a logged-out token is dead");

    let (_, token) = server.operator_session("bo", &["auditor"]);
    server.advance_clock("9h");
    let (status, _) = server.call_as(&token, "GET", "/v1/auth/whoami", None);
    assert_eq!(status, 401, "sessions expire on the server clock");
}

#[test]
fn roles_checked_and_denials_audited() {
    let server = TestServer::start();
    server.add_person("Owner One", "one@example.com");
    server.add_person("Owner Two", "two@example.com");
    let (auditor, auditor_token) = server.operator_session("aud", &["auditor"]);
    let (builder, builder_token) = server.operator_session("bld", &["builder"]);

    let bot = json!({"name": "ledger-bot", "purpose": "Posts supplier invoices into the ledger.",
                     "owner": "one@example.com", "backup_owner": "two@example.com", "platform": "script"});
    // (token, method, path, body, action audited as denied)
    let cases: Vec<(&str, &str, &str, Option<Value>, &str)> = vec![
        (
            &auditor_token,
            "POST",
            "/v1/bots",
            Some(bot.clone()),
            "bot.create",
        ),
        (
            &auditor_token,
            "POST",
            "/v1/people",
            Some(json!({"name": "X", "email": "x@example.com"})),
            "person.create",
        ),
        (
            &builder_token,
            "POST",
            "/v1/operators",
            Some(
                json!({"person": "one@example.com", "username": "one", "password": PASSWORD, "roles": ["admin"]}),
            ),
            "operator.create",
        ),
        (&builder_token, "GET", "/v1/audit", None, "audit.query"),
        (
            &builder_token,
            "POST",
            "/v1/sys/clock",
            Some(json!({"advance": "1d"})),
            "sys.clock",
        ),
        (
            &builder_token,
            "POST",
            "/v1/people/one@example.com/leave",
            None,
            "person.leave",
        ),
    ];
    for (token, method, path, body, action) in &cases {
        let (status, answer) = server.call_as(token, method, path, body.clone());
        assert_eq!(status, 403, "{method} {path}: {answer}");
        assert_eq!(answer["error"]["code"], "forbidden", "{answer}");
        let denied = server.audit(&format!("action={action}"));
        assert!(
            denied.iter().any(|e| e["outcome"] == "denied"),
            "{action} denial not audited: {denied:#?}"
        );
    }
    let denied_actors: Vec<Value> = server
        .audit("action=bot.create")
        .iter()
        .map(|e| e["actor"].clone())
        .collect();
    assert_eq!(denied_actors, vec![json!(auditor)]);

    let (status, created) = server.call_as(&builder_token, "POST", "/v1/bots", Some(bot));
    assert_eq!(status, 201, "a builder registers bots: {created}");
    assert_eq!(created["created_by"], builder.as_str());
    let (status, _) = server.call_as(&auditor_token, "GET", "/v1/audit?action=bot.create", None);
    assert_eq!(status, 200, "an auditor reads the audit log");
    let (status, _) = server.call_as(
        &auditor_token,
        "POST",
        "/v1/bots/ledger-bot/suspend",
        Some(json!({"reason": "x"})),
    );
    assert_eq!(status, 403, "an auditor cannot suspend");
}

#[test]
fn cli_login_prints_token() {
    let server = TestServer::start();
    let person = server.add_person("Ana Silva", "ana@example.com");
    let (_, secret) = server.add_operator(&person, "ana", PASSWORD, &["admin"]);
    let code = totp_code(&secret, server_unix_time(&server));
    let out = std::process::Command::new(common::ward_bin())
        .args(["login", "--username", "ana", "--totp", &code])
        .env("WARD_ADDR", &server.addr)
        .env("WARD_PASSWORD", PASSWORD)
        .env_remove("WARD_TOKEN")
        .output()
        .unwrap();
    let stdout = expect_exit(&out, 0);
    let token = stdout.trim().strip_prefix("export WARD_TOKEN=").unwrap();
    let (status, me) = server.call_as(token, "GET", "/v1/auth/whoami", None);
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["roles"], json!(["admin"]));

    let out = std::process::Command::new(common::ward_bin())
        .args(["login", "--username", "ana", "--totp", "000000"])
        .env("WARD_ADDR", &server.addr)
        .env("WARD_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("sign-in failed"));
}

#[test]
fn person_leaving_ends_operator_access() {
    let server = TestServer::start();
    let person = server.add_person("Ana Silva", "ana@example.com");
    let (operator, secret) = server.add_operator(&person, "ana", PASSWORD, &["builder"]);
    let (status, body) = server.login("ana", PASSWORD, &secret);
    assert_eq!(status, 200, "{body}");
    let token = body["token"].as_str().unwrap().to_string();

    let (status, left) = server.call("POST", &format!("/v1/people/{person}/leave"), None);
    assert_eq!(status, 200, "{left}");
    let (status, _) = server.call_as(&token, "GET", "/v1/auth/whoami", None);
    assert_eq!(status, 401, "the session of a person who left is revoked");
    let (status, answer) = server.login("ana", PASSWORD, &secret);
    assert_eq!(status, 401, "a person who left cannot sign in: {answer}");

    let leave = server.audit("action=person.leave");
    let details: Value = serde_json::from_str(leave[0]["details"].as_str().unwrap()).unwrap();
    assert_eq!(details["sessions_revoked"], 1);
    let denied = server.audit(&format!("actor={operator}&action=auth.login"));
    assert_eq!(denied.last().unwrap()["outcome"], "denied");
}

#[test]
fn cli_operator_create_prints_secret_once() {
    let server = TestServer::start();
    server.add_person("Ana Silva", "ana@example.com");
    let out = std::process::Command::new(common::ward_bin())
        .args([
            "operator",
            "create",
            "--person",
            "ana@example.com",
            "--username",
            "ana",
            "--roles",
            "builder,approver",
        ])
        .env("WARD_ADDR", &server.addr)
        .env("WARD_TOKEN", &server.root_token)
        .env("WARD_OPERATOR_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    let stdout = expect_exit(&out, 0);
    let secret = stdout
        .lines()
        .find_map(|line| {
            line.strip_prefix("TOTP secret (shown once; add it to an authenticator app): ")
        })
        .unwrap_or_else(|| panic!("{stdout}"))
        .trim()
        .to_string();
    let (status, answer) = server.login("ana", PASSWORD, &secret);
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["roles"], json!(["builder", "approver"]));

    let listed = expect_exit(&server.cli(&["operator", "list", "-o", "json"]), 0);
    assert!(listed.contains("\"ana\""), "{listed}");
    assert!(!listed.contains(&secret), "{listed}");
}

#[test]
fn concurrent_failures_lock_exactly_once() {
    let server = TestServer::start();
    let person = server.add_person("Ana Silva", "ana@example.com");
    server.add_operator(&person, "ana", PASSWORD, &["builder"]);
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| login_raw(&server, json!({"username": "ana", "password": "wrong-password-12", "totp": "123456"})).0))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let unauthorized = statuses.iter().filter(|s| **s == 401).count();
    let locked = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(unauthorized, 5, "{statuses:?}");
    assert_eq!(locked, 3, "{statuses:?}");
    assert_eq!(server.audit("action=auth.lockout").len(), 1);
}

#[test]
fn totp_code_accepted_only_once() {
    let server = TestServer::start();
    let person = server.add_person("Ana Silva", "ana@example.com");
    let (operator, secret) = server.add_operator(&person, "ana", PASSWORD, &["admin"]);
    let code = totp_code(&secret, server_unix_time(&server));
    let body = json!({"username": "ana", "password": PASSWORD, "totp": code});
    let (status, answer) = login_raw(&server, body.clone());
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = login_raw(&server, body);
    assert_eq!(status, 401, "a replayed code is rejected: {answer}");
    let denied = server.audit(&format!("actor={operator}&action=auth.login"));
    let details: Value =
        serde_json::from_str(denied.last().unwrap()["details"].as_str().unwrap()).unwrap();
    assert_eq!(details["reason"], "TOTP code already used");

    server.advance_clock("90s");
    let (status, answer) = server.login("ana", PASSWORD, &secret);
    assert_eq!(status, 200, "a later code works: {answer}");
}
