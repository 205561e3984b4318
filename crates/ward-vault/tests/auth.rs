//! AppRole logins and tokens: TTLs on an injected clock, use counts, CIDR
//! binding, renewal caps and revocation of a bot's credentials.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod common;

use std::net::IpAddr;

use common::{Env, contains};
use secrecy::ExposeSecret;
use time::Duration;
use ward_vault::approle::{self, RoleConfig, SecretIdRequest};
use ward_vault::cidr;
use ward_vault::token;
use ward_vault::{Barrier, VaultError};

const BOT: &str = "bot_aaaaaaaaaaaaaaaaaaaaaaaaaa";

fn ip(text: &str) -> Option<IpAddr> {
    Some(text.parse().unwrap())
}

async fn role(env: &Env, config: RoleConfig) -> approle::Role {
    let mut conn = env.conn().await;
    approle::put_role(&mut conn, "invoice-bot", BOT, &config, env.now())
        .await
        .unwrap()
}

#[tokio::test]
async fn secret_id_limits_bounded_by_role() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let config = RoleConfig {
        secret_id_num_uses: 2,
        secret_id_ttl: Duration::seconds(600),
        token_ttl: Duration::seconds(900),
        ..Default::default()
    };
    role(&env, config).await;
    let mut conn = env.conn().await;
    let issue = |uses: Option<i64>, ttl: Option<Duration>| SecretIdRequest {
        num_uses: uses,
        ttl,
        ..Default::default()
    };

    let one = approle::issue_secret_id(
        &mut conn,
        &barrier,
        "invoice-bot",
        &issue(Some(1), None),
        env.now(),
    )
    .await
    .unwrap();
    assert_eq!(one.num_uses, 1);
    assert_eq!(one.ttl, Duration::seconds(600));

    let cases = [
        (
            issue(Some(3), None),
            "num_uses cannot be higher than the role's secret_id_num_uses",
        ),
        (
            issue(Some(0), None),
            "num_uses cannot be higher than the role's secret_id_num_uses",
        ),
        (
            issue(None, Some(Duration::seconds(3600))),
            "ttl cannot be longer than the role's secret_id_ttl",
        ),
        (
            issue(None, Some(Duration::ZERO)),
            "ttl cannot be longer than the role's secret_id_ttl",
        ),
        (issue(Some(-1), None), "num_uses cannot be negative"),
    ];
    for (request, message) in cases {
        let err = approle::issue_secret_id(&mut conn, &barrier, "invoice-bot", &request, env.now())
            .await
            .err()
            .unwrap();
        assert_eq!(err.to_string(), message);
    }
    let missing =
        approle::issue_secret_id(&mut conn, &barrier, "nobody", &issue(None, None), env.now())
            .await
            .err()
            .unwrap();
    assert_eq!(missing.to_string(), "role \"nobody\" does not exist");
}

#[tokio::test]
async fn single_use_secret_id_logs_in_once() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let role = role(
        &env,
        RoleConfig {
            secret_id_num_uses: 2,
            ..Default::default()
        },
    )
    .await;
    let mut conn = env.conn().await;
    let request = SecretIdRequest {
        num_uses: Some(1),
        ..Default::default()
    };
    let issued = approle::issue_secret_id(&mut conn, &barrier, "invoice-bot", &request, env.now())
        .await
        .unwrap();
    let secret = issued.secret_id.expose_secret();

    let login = approle::login(&mut conn, &barrier, &role.role_id, secret, None, env.now())
        .await
        .unwrap();
    assert_eq!(login.token.entry.bot_id.as_deref(), Some(BOT));
    let entry = &login.token.entry;
    assert_eq!(
        entry.expire_time,
        Some(entry.creation_time + Duration::minutes(15))
    );
    assert_eq!(
        login.token.entry.meta.get("role_name").map(String::as_str),
        Some("invoice-bot")
    );
    assert!(login.token.token.expose_secret().starts_with("hvs."));

    let err = approle::login(&mut conn, &barrier, &role.role_id, secret, None, env.now())
        .await
        .err()
        .unwrap();
    assert_eq!(err.to_string(), "invalid role or secret ID");
    assert!(matches!(err, VaultError::InvalidLogin { bot_id: Some(ref bot) } if bot == BOT));
}

#[tokio::test]
async fn two_use_secret_id_counts_down() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let role = role(
        &env,
        RoleConfig {
            secret_id_num_uses: 2,
            ..Default::default()
        },
    )
    .await;
    let mut conn = env.conn().await;
    let issued = approle::issue_secret_id(
        &mut conn,
        &barrier,
        "invoice-bot",
        &SecretIdRequest::default(),
        env.now(),
    )
    .await
    .unwrap();
    assert_eq!(issued.num_uses, 2);
    let secret = issued.secret_id.expose_secret();
    approle::login(&mut conn, &barrier, &role.role_id, secret, None, env.now())
        .await
        .unwrap();
    approle::login(&mut conn, &barrier, &role.role_id, secret, None, env.now())
        .await
        .unwrap();
    assert!(
        approle::login(&mut conn, &barrier, &role.role_id, secret, None, env.now())
            .await
            .is_err()
    );
}

#[tokio::test]
async fn expired_secret_id_fails_with_uses_left() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let role = role(
        &env,
        RoleConfig {
            secret_id_ttl: Duration::seconds(600),
            ..Default::default()
        },
    )
    .await;
    let mut conn = env.conn().await;
    let issued = approle::issue_secret_id(
        &mut conn,
        &barrier,
        "invoice-bot",
        &SecretIdRequest::default(),
        env.now(),
    )
    .await
    .unwrap();
    env.clock.advance(Duration::seconds(601));
    let err = approle::login(
        &mut conn,
        &barrier,
        &role.role_id,
        issued.secret_id.expose_secret(),
        None,
        env.now(),
    )
    .await
    .err()
    .unwrap();
    assert!(matches!(err, VaultError::InvalidLogin { .. }));
}

#[tokio::test]
async fn wrong_role_id_or_secret_id_same_message() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let role = role(&env, RoleConfig::default()).await;
    let mut conn = env.conn().await;
    let issued = approle::issue_secret_id(
        &mut conn,
        &barrier,
        "invoice-bot",
        &SecretIdRequest::default(),
        env.now(),
    )
    .await
    .unwrap();
    let bad_role = approle::login(
        &mut conn,
        &barrier,
        "no-such-role",
        issued.secret_id.expose_secret(),
        None,
        env.now(),
    )
    .await
    .err()
    .unwrap();
    let bad_secret = approle::login(
        &mut conn,
        &barrier,
        &role.role_id,
        "no-such-secret",
        None,
        env.now(),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(bad_role.to_string(), bad_secret.to_string());
    assert!(matches!(
        bad_role,
        VaultError::InvalidLogin { bot_id: None }
    ));
}

#[tokio::test]
async fn secret_id_cidr_binding() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let role = role(
        &env,
        RoleConfig {
            secret_id_bound_cidrs: cidr::parse_list(&["10.0.0.0/8"]).unwrap(),
            ..Default::default()
        },
    )
    .await;
    let mut conn = env.conn().await;
    let outside = SecretIdRequest {
        cidr_list: cidr::parse_list(&["192.168.0.0/16"]).unwrap(),
        ..Default::default()
    };
    assert!(matches!(
        approle::issue_secret_id(&mut conn, &barrier, "invoice-bot", &outside, env.now()).await,
        Err(VaultError::InvalidCidr(_))
    ));
    let inside = SecretIdRequest {
        cidr_list: cidr::parse_list(&["10.1.0.0/16"]).unwrap(),
        ..Default::default()
    };
    let issued = approle::issue_secret_id(&mut conn, &barrier, "invoice-bot", &inside, env.now())
        .await
        .unwrap();
    let secret = issued.secret_id.expose_secret();
    let err = approle::login(
        &mut conn,
        &barrier,
        &role.role_id,
        secret,
        ip("10.2.0.1"),
        env.now(),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(
        err.to_string(),
        "source address \"10.2.0.1\" unauthorized through CIDR restrictions on the secret ID"
    );
    assert!(
        approle::login(
            &mut conn,
            &barrier,
            &role.role_id,
            secret,
            ip("10.1.4.4"),
            env.now()
        )
        .await
        .is_ok()
    );
}

#[tokio::test]
async fn token_bound_cidrs_checked_on_use() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let role = role(&env, RoleConfig::default()).await;
    let mut conn = env.conn().await;
    let request = SecretIdRequest {
        token_bound_cidrs: cidr::parse_list(&["127.0.0.1"]).unwrap(),
        ..Default::default()
    };
    let issued = approle::issue_secret_id(&mut conn, &barrier, "invoice-bot", &request, env.now())
        .await
        .unwrap();
    let login = approle::login(
        &mut conn,
        &barrier,
        &role.role_id,
        issued.secret_id.expose_secret(),
        None,
        env.now(),
    )
    .await
    .unwrap();
    let token = login.token.token.expose_secret();
    assert!(
        token::authenticate(&mut conn, &barrier, token, ip("127.0.0.1"), env.now())
            .await
            .is_ok()
    );
    assert!(matches!(
        token::authenticate(&mut conn, &barrier, token, ip("10.0.0.1"), env.now()).await,
        Err(VaultError::TokenCidrMismatch { .. })
    ));
}

#[tokio::test]
async fn token_expires_on_manual_clock() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let role = role(&env, RoleConfig::default()).await;
    let mut conn = env.conn().await;
    let issued = approle::issue_secret_id(
        &mut conn,
        &barrier,
        "invoice-bot",
        &SecretIdRequest::default(),
        env.now(),
    )
    .await
    .unwrap();
    let login = approle::login(
        &mut conn,
        &barrier,
        &role.role_id,
        issued.secret_id.expose_secret(),
        None,
        env.now(),
    )
    .await
    .unwrap();
    let token = login.token.token.expose_secret();

    env.clock.advance(Duration::minutes(14));
    let entry = token::authenticate(&mut conn, &barrier, token, None, env.now())
        .await
        .unwrap();
    assert!(entry.remaining(env.now()) <= Duration::minutes(1));
    env.clock.advance(Duration::minutes(2));
    assert!(matches!(
        token::authenticate(&mut conn, &barrier, token, None, env.now()).await,
        Err(VaultError::InvalidToken)
    ));
    assert!(matches!(
        token::lookup(&mut conn, &barrier, token, env.now()).await,
        Err(VaultError::InvalidToken)
    ));
    assert_eq!(token::purge_expired(&mut conn, env.now()).await.unwrap(), 1);
}

#[tokio::test]
async fn renew_extends_then_caps_at_max_ttl() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let config = RoleConfig {
        token_ttl: Duration::minutes(15),
        token_max_ttl: Duration::minutes(30),
        ..Default::default()
    };
    let role = role(&env, config).await;
    let mut conn = env.conn().await;
    let issued = approle::issue_secret_id(
        &mut conn,
        &barrier,
        "invoice-bot",
        &SecretIdRequest::default(),
        env.now(),
    )
    .await
    .unwrap();
    let login = approle::login(
        &mut conn,
        &barrier,
        &role.role_id,
        issued.secret_id.expose_secret(),
        None,
        env.now(),
    )
    .await
    .unwrap();
    let token = login.token.token.expose_secret();

    // Times relative to creation, so wall-clock drift cannot shift the numbers.
    let created = login.token.entry.creation_time;
    let renewal = token::renew(
        &mut conn,
        &barrier,
        token,
        None,
        created + Duration::minutes(10),
    )
    .await
    .unwrap();
    assert_eq!(renewal.granted, Duration::minutes(15));
    assert!(renewal.capped.is_none());

    let late = created + Duration::minutes(10) + Duration::seconds(450);
    let capped = token::renew(&mut conn, &barrier, token, Some(Duration::hours(1)), late)
        .await
        .unwrap();
    let (requested, max) = capped.capped.unwrap();
    assert_eq!(requested, Duration::hours(1));
    assert_eq!(max, Duration::seconds(750));
    assert_eq!(capped.granted, Duration::seconds(750));
    assert_eq!(
        capped.entry.expire_time,
        Some(created + Duration::minutes(30))
    );

    let after_max = created + Duration::minutes(30) + Duration::seconds(1);
    assert!(
        token::authenticate(&mut conn, &barrier, token, None, after_max)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn root_token_never_expires_and_does_not_renew() {
    let env = Env::new().await;
    let (barrier, output) = env.unsealed().await;
    let mut conn = env.conn().await;
    let root = output.root_token.expose_secret();
    env.clock.advance(Duration::days(400));
    let entry = token::authenticate(&mut conn, &barrier, root, None, env.now())
        .await
        .unwrap();
    assert!(entry.is_root());
    assert_eq!(entry.expire_time, None);
    assert!(matches!(
        token::renew(&mut conn, &barrier, root, None, env.now()).await,
        Err(VaultError::NotRenewable)
    ));
}

#[tokio::test]
async fn token_use_count_revokes_after_last_use() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let mut conn = env.conn().await;
    let spec = token::TokenSpec {
        bot_id: Some(BOT.to_string()),
        policies: vec![],
        meta: Default::default(),
        display_name: "token".to_string(),
        path: "auth/token/create".to_string(),
        ttl: Duration::hours(1),
        max_ttl: Duration::hours(2),
        renewable: true,
        num_uses: 2,
        bound_cidrs: vec![],
    };
    let issued = token::issue(&mut conn, &barrier, spec, env.now())
        .await
        .unwrap();
    let token = issued.token.expose_secret();
    assert_eq!(issued.entry.policies, vec!["default".to_string()]);
    assert_eq!(
        token::authenticate(&mut conn, &barrier, token, None, env.now())
            .await
            .unwrap()
            .num_uses,
        1
    );
    assert!(
        token::authenticate(&mut conn, &barrier, token, None, env.now())
            .await
            .is_ok()
    );
    assert!(matches!(
        token::authenticate(&mut conn, &barrier, token, None, env.now()).await,
        Err(VaultError::InvalidToken)
    ));
}

#[tokio::test]
async fn revoke_bot_removes_tokens_and_secret_ids() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let role = role(&env, RoleConfig::default()).await;
    let mut conn = env.conn().await;
    let first = approle::issue_secret_id(
        &mut conn,
        &barrier,
        "invoice-bot",
        &SecretIdRequest::default(),
        env.now(),
    )
    .await
    .unwrap();
    let second = approle::issue_secret_id(
        &mut conn,
        &barrier,
        "invoice-bot",
        &SecretIdRequest::default(),
        env.now(),
    )
    .await
    .unwrap();
    let mut tokens = Vec::new();
    for _ in 0..3 {
        let login = approle::login(
            &mut conn,
            &barrier,
            &role.role_id,
            first.secret_id.expose_secret(),
            None,
            env.now(),
        )
        .await
        .unwrap();
        tokens.push(login.token.token);
    }
    assert_eq!(
        token::list_bot_tokens(&mut conn, BOT, env.now())
            .await
            .unwrap()
            .len(),
        3
    );

    let revoked = approle::revoke_bot(&mut conn, BOT).await.unwrap();
    assert_eq!(
        revoked,
        approle::Revoked {
            tokens: 3,
            secret_ids: 2
        }
    );
    for token in &tokens {
        assert!(
            token::authenticate(&mut conn, &barrier, token.expose_secret(), None, env.now())
                .await
                .is_err()
        );
    }
    assert!(
        approle::login(
            &mut conn,
            &barrier,
            &role.role_id,
            second.secret_id.expose_secret(),
            None,
            env.now()
        )
        .await
        .is_err()
    );
    assert_eq!(
        approle::count_secret_ids(&mut conn, BOT, env.now())
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn revoke_self_and_accessor() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let role = role(&env, RoleConfig::default()).await;
    let mut conn = env.conn().await;
    let issued = approle::issue_secret_id(
        &mut conn,
        &barrier,
        "invoice-bot",
        &SecretIdRequest::default(),
        env.now(),
    )
    .await
    .unwrap();
    let a = approle::login(
        &mut conn,
        &barrier,
        &role.role_id,
        issued.secret_id.expose_secret(),
        None,
        env.now(),
    )
    .await
    .unwrap();
    let b = approle::login(
        &mut conn,
        &barrier,
        &role.role_id,
        issued.secret_id.expose_secret(),
        None,
        env.now(),
    )
    .await
    .unwrap();
    assert!(
        token::revoke(&mut conn, &barrier, a.token.token.expose_secret())
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        token::authenticate(
            &mut conn,
            &barrier,
            a.token.token.expose_secret(),
            None,
            env.now()
        )
        .await
        .is_err()
    );
    assert!(
        token::revoke_accessor(&mut conn, &b.token.entry.accessor)
            .await
            .unwrap()
    );
    assert!(
        token::authenticate(
            &mut conn,
            &barrier,
            b.token.token.expose_secret(),
            None,
            env.now()
        )
        .await
        .is_err()
    );
}

#[tokio::test]
async fn role_update_keeps_role_id_and_hashes() {
    let env = Env::new().await;
    let (barrier, _) = env.unsealed().await;
    let first = role(&env, RoleConfig::default()).await;
    let second = role(
        &env,
        RoleConfig {
            token_ttl: Duration::minutes(5),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(first.role_id, second.role_id);
    assert_eq!(second.config.token_ttl, Duration::minutes(5));

    let mut conn = env.conn().await;
    let issued = approle::issue_secret_id(
        &mut conn,
        &barrier,
        "invoice-bot",
        &SecretIdRequest::default(),
        env.now(),
    )
    .await
    .unwrap();
    let login = approle::login(
        &mut conn,
        &barrier,
        &first.role_id,
        issued.secret_id.expose_secret(),
        None,
        env.now(),
    )
    .await
    .unwrap();
    sqlx::raw_sql("PRAGMA wal_checkpoint(FULL)")
        .execute(&mut *conn)
        .await
        .unwrap();
    let bytes = env.database_bytes();
    assert!(!contains(
        &bytes,
        issued.secret_id.expose_secret().as_bytes()
    ));
    assert!(!contains(
        &bytes,
        login.token.token.expose_secret().as_bytes()
    ));
}

#[tokio::test]
async fn tokens_survive_restart_and_data_key_rotation() {
    let env = Env::new().await;
    let (barrier, output) = env.unsealed().await;
    let role = role(&env, RoleConfig::default()).await;
    let mut conn = env.conn().await;
    let issued = approle::issue_secret_id(
        &mut conn,
        &barrier,
        "invoice-bot",
        &SecretIdRequest::default(),
        env.now(),
    )
    .await
    .unwrap();
    let login = approle::login(
        &mut conn,
        &barrier,
        &role.role_id,
        issued.secret_id.expose_secret(),
        None,
        env.now(),
    )
    .await
    .unwrap();
    let change = barrier.prepare_data_key_rotation(env.now()).unwrap();
    change.persist(&mut conn, env.now()).await.unwrap();
    barrier.apply(change).unwrap();

    let restarted = Barrier::load(&mut conn).await.unwrap();
    assert!(matches!(
        token::authenticate(
            &mut conn,
            &restarted,
            login.token.token.expose_secret(),
            None,
            env.now()
        )
        .await,
        Err(VaultError::Sealed)
    ));
    restarted.unseal(output.keys[0].expose_secret()).unwrap();
    assert!(
        token::authenticate(
            &mut conn,
            &restarted,
            login.token.token.expose_secret(),
            None,
            env.now()
        )
        .await
        .is_ok()
    );
}
