//! Operators: accounts, sign-in with a password and TOTP, sessions.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, Secret, TOTP};
use ward_audit::{AuditEntry, Outcome};
use ward_core::id::OperatorId;
use ward_core::person::Role;
use ward_store::operators::{self, Operator};
use ward_store::{people, sessions};

use super::ApiJson;
use crate::auth::{Caller, join_roles, new_token, parse_roles, request_token};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Shortest accepted operator password, in characters.
pub const MIN_PASSWORD_LEN: usize = 12;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateOperator {
    person: Option<String>,
    username: Option<String>,
    password: Option<String>,
    roles: Option<Vec<String>>,
}

/// Returned once at creation: the TOTP secret is never shown again.
#[derive(Serialize)]
pub struct CreatedOperator {
    operator: Operator,
    totp_secret: String,
    totp_uri: String,
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateOperator>,
) -> ApiResult<(StatusCode, Json<CreatedOperator>)> {
    caller
        .require(&state, &[Role::Admin], "operator.create")
        .await?;
    let person_ref = body
        .person
        .filter(|p| !p.trim().is_empty())
        .ok_or_else(|| ApiError::missing("person"))?;
    let username = body
        .username
        .map(|u| u.trim().to_string())
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::missing("username"))?;
    if username.len() > 64
        || !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'))
    {
        return Err(ApiError::invalid(
            "username",
            "must be at most 64 characters of letters, digits, `.`, `-`, `_` and `@`",
        ));
    }
    let password = body.password.ok_or_else(|| ApiError::missing("password"))?;
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ApiError::invalid(
            "password",
            format!("must be at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    let roles = parse_role_list(body.roles.unwrap_or_default())?;

    let id = OperatorId::generate().to_string();
    let secret = Secret::generate_secret()
        .to_bytes()
        .map_err(|err| ApiError::internal("TOTP secret generation", err))?;
    let totp = make_totp(secret.clone(), &username)?;
    let password_hash = hash_password(&password)?;
    let sealed_secret = state
        .keys
        .encrypt(id.as_bytes(), &secret)
        .map_err(|err| ApiError::internal("TOTP secret encryption", err))?;

    let mut tx = state.store.begin_write().await?;
    let person = people::find(&mut tx, &person_ref).await?.ok_or_else(|| {
        ApiError::invalid("person", format!("names no known person: `{person_ref}`"))
    })?;
    if person.status != "active" {
        return Err(ApiError::invalid(
            "person",
            format!("`{}` has left", person.email),
        ));
    }
    let operator = Operator {
        id,
        person_id: person.id,
        username,
        password_hash,
        totp_secret: Some(sealed_secret),
        roles: join_roles(&roles),
        failed_logins: 0,
        locked_until: None,
        created_at: state.now_text(),
    };
    if let Err(err) = operators::insert(&mut tx, &operator).await {
        if err.is_unique_violation() {
            return Err(ApiError::conflict(
                "duplicate",
                "that person or username already has an operator account",
            ));
        }
        return Err(err.into());
    }
    let entry = AuditEntry::new(&caller.subject, "operator.create", Outcome::Success)
        .target(&operator.id)
        .details(serde_json::json!({"username": operator.username, "roles": operator.roles}));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedOperator {
            totp_secret: totp.get_secret_base32(),
            totp_uri: totp.get_url(),
            operator,
        }),
    ))
}

fn parse_role_list(names: Vec<String>) -> ApiResult<Vec<Role>> {
    if names.is_empty() {
        return Err(ApiError::missing("roles"));
    }
    let mut roles = Vec::new();
    for name in names {
        let role: Role = name
            .trim()
            .parse()
            .map_err(|msg: String| ApiError::invalid("roles", msg))?;
        if !roles.contains(&role) {
            roles.push(role);
        }
    }
    roles.sort();
    Ok(roles)
}

fn make_totp(secret: Vec<u8>, account: &str) -> ApiResult<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        secret,
        Some("Ward".to_string()),
        account.to_string(),
    )
    .map_err(|err| ApiError::internal("TOTP setup", err))
}

fn hash_password(password: &str) -> ApiResult<String> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
        .map_err(|err| ApiError::internal("password salt", err))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| ApiError::internal("password hashing", err))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<Operator>>> {
    caller
        .require(&state, &[Role::Admin, Role::Auditor], "operator.list")
        .await?;
    let mut conn = state.store.reader().acquire().await?;
    Ok(Json(operators::list(&mut conn).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: Option<String>,
    password: Option<String>,
    totp: Option<String>,
}

#[derive(Serialize)]
pub struct LoginResponse {
    token: String,
    operator_id: String,
    roles: Vec<Role>,
    expires_at: String,
}

/// Signs an operator in. Every failure answers the same 401, is counted, and
/// is audited; reaching the lockout threshold locks the account for a while.
pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginBody>,
) -> ApiResult<Json<LoginResponse>> {
    let username = body
        .username
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ApiError::missing("username"))?;
    let password = body.password.ok_or_else(|| ApiError::missing("password"))?;
    let now = state.now();
    let now_text = ward_core::clock::format_timestamp(now);

    // Argon2 runs before the write transaction and on a blocking thread, so a
    // burst of sign-in attempts never holds the single writer connection or
    // the async workers while hashing.
    let (operator, person) = {
        let mut conn = state.store.reader().acquire().await?;
        let operator = operators::find(&mut conn, &username).await?;
        let person = match &operator {
            Some(op) => people::find(&mut conn, &op.person_id).await?,
            None => None,
        };
        (operator, person)
    };
    let Some(operator) = operator else {
        run_blocking(move || check_dummy_password(&password)).await?;
        let entry = AuditEntry::new("anonymous", "auth.login", Outcome::Denied)
            .details(serde_json::json!({"username": username, "reason": "unknown username"}));
        state.audit_alone(entry).await?;
        return Err(bad_credentials());
    };
    if let Some(until) = lock_in_force(&operator, &now_text) {
        let entry = AuditEntry::new(&operator.id, "auth.login", Outcome::Denied)
            .details(serde_json::json!({"reason": "account locked", "locked_until": until}));
        state.audit_alone(entry).await?;
        return Err(account_locked(until));
    }
    if person.is_none_or(|p| p.status != "active") {
        run_blocking(move || check_dummy_password(&password)).await?;
        let entry = AuditEntry::new(&operator.id, "auth.login", Outcome::Denied)
            .details(serde_json::json!({"reason": "the operator's person has left"}));
        state.audit_alone(entry).await?;
        return Err(bad_credentials());
    }
    let roles = parse_roles(&operator.roles);
    let checked = {
        let (state, operator, roles) = (state.clone(), operator.clone(), roles.clone());
        let code = body.totp;
        run_blocking(move || {
            check_credentials(&state, &operator, &password, code.as_deref(), &roles, now)
        })
        .await?
    };

    let mut tx = state.store.begin_write().await?;
    // Concurrent failures may have locked the account since the read above.
    let operator = operators::find(&mut tx, &operator.id)
        .await?
        .ok_or_else(bad_credentials)?;
    if let Some(until) = lock_in_force(&operator, &now_text) {
        let entry = AuditEntry::new(&operator.id, "auth.login", Outcome::Denied)
            .details(serde_json::json!({"reason": "account locked", "locked_until": until}));
        ward_audit::append(&mut tx, now, &entry).await?;
        tx.commit().await?;
        return Err(account_locked(until));
    }
    if operator.locked_until.is_some() {
        // The lock has expired, so failures count from zero again. Without
        // this, one wrong password after the lock would lock the account
        // again, with no `auth.lockout` entry.
        operators::record_success(&mut tx, &operator.id).await?;
    }
    let failure = match checked {
        Err(reason) => Some(reason),
        Ok(Some(step)) if !operators::claim_totp_step(&mut tx, &operator.id, step).await? => {
            Some("TOTP code already used")
        }
        Ok(_) => None,
    };
    if let Some(reason) = failure {
        let lock_until = ward_core::clock::format_timestamp(
            now + time::Duration::minutes(state.config.lockout_minutes),
        );
        let count = operators::record_failure(
            &mut tx,
            &operator.id,
            state.config.lockout_threshold,
            &lock_until,
        )
        .await?;
        let entry = AuditEntry::new(&operator.id, "auth.login", Outcome::Denied)
            .details(serde_json::json!({"reason": reason, "failed_logins": count}));
        ward_audit::append(&mut tx, now, &entry).await?;
        if count == state.config.lockout_threshold {
            let entry = AuditEntry::new("system", "auth.lockout", Outcome::Success)
                .target(&operator.id)
                .details(serde_json::json!({"locked_until": lock_until, "failed_logins": count}));
            ward_audit::append(&mut tx, now, &entry).await?;
            tracing::warn!(operator = %operator.id, "operator account locked after failed sign-ins");
        }
        tx.commit().await?;
        return Err(bad_credentials());
    }

    operators::record_success(&mut tx, &operator.id).await?;
    let token = new_token();
    let expires_at = ward_core::clock::format_timestamp(now + state.config.session_ttl());
    sessions::insert(
        &mut tx,
        &state.keys.hash_token(&token),
        Some(&operator.id),
        &operator.id,
        &operator.roles,
        &now_text,
        &expires_at,
    )
    .await?;
    let entry = AuditEntry::new(&operator.id, "auth.login", Outcome::Success)
        .details(serde_json::json!({"roles": operator.roles}));
    ward_audit::append(&mut tx, now, &entry).await?;
    tx.commit().await?;
    Ok(Json(LoginResponse {
        token,
        operator_id: operator.id,
        roles,
        expires_at,
    }))
}

/// Returns the end of the operator's lock when it is later than `now`.
fn lock_in_force<'a>(operator: &'a Operator, now: &str) -> Option<&'a str> {
    operator
        .locked_until
        .as_deref()
        .filter(|until| *until > now)
}

fn account_locked(until: &str) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "account_locked",
        format!("too many failed sign-ins: the account is locked until {until}"),
    )
}

/// Runs CPU-heavy work such as Argon2 on the blocking thread pool.
async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|err| ApiError::internal("credential check", err))
}

/// Verifies `password` against a throwaway hash, so that rejecting an unknown
/// username takes about as long as rejecting a wrong password.
fn check_dummy_password(password: &str) {
    static DUMMY_HASH: OnceLock<Option<String>> = OnceLock::new();
    let hash = DUMMY_HASH.get_or_init(|| hash_password("ward-dummy-password").ok());
    if let Some(hash) = hash.as_deref().and_then(|h| PasswordHash::new(h).ok()) {
        let _ = Argon2::default().verify_password(password.as_bytes(), &hash);
    }
}

fn bad_credentials() -> ApiError {
    ApiError::unauthorized("sign-in failed: wrong username, password or TOTP code")
}

/// Checks the password and TOTP code. Returns why they fail, or the TOTP time
/// step the code matched (`None` when no code was needed or given).
fn check_credentials(
    state: &AppState,
    operator: &Operator,
    password: &str,
    code: Option<&str>,
    roles: &[Role],
    now: time::OffsetDateTime,
) -> Result<Option<i64>, &'static str> {
    let password_ok = PasswordHash::new(&operator.password_hash)
        .map(|hash| {
            Argon2::default()
                .verify_password(password.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false);
    if !password_ok {
        return Err("wrong password");
    }
    let needs_mfa = roles.iter().any(|r| r.requires_mfa());
    let Some(code) = code else {
        return if needs_mfa {
            Err("missing TOTP code")
        } else {
            Ok(None)
        };
    };
    let Some(sealed) = &operator.totp_secret else {
        return Err("no TOTP secret enrolled");
    };
    let Ok(secret) = state.keys.decrypt(operator.id.as_bytes(), sealed) else {
        tracing::error!(operator = %operator.id, "stored TOTP secret failed to decrypt");
        return Err("TOTP secret unreadable");
    };
    let Ok(mut totp) = make_totp(secret, &operator.username) else {
        return Err("TOTP secret unreadable");
    };
    // Accept the current step and one on either side for clock drift, and
    // report which one matched so that it can be used only once.
    totp.skew = 0;
    let step = i64::try_from(totp.step).unwrap_or(30);
    let now = now.unix_timestamp();
    (-1..=1)
        .map(|offset| now + offset * step)
        .find(|at| u64::try_from(*at).is_ok_and(|at| totp.check(code.trim(), at)))
        .map(|at| Some(at / step))
        .ok_or("wrong TOTP code")
}

/// Ends the caller's session.
pub async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let token = request_token(&headers).unwrap_or_default();
    let mut tx = state.store.begin_write().await?;
    sessions::delete(&mut tx, &state.keys.hash_token(token)).await?;
    ward_audit::append(
        &mut tx,
        state.now(),
        &AuditEntry::new(&caller.subject, "auth.logout", Outcome::Success),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
pub struct WhoAmI {
    subject: String,
    operator_id: Option<String>,
    roles: Vec<Role>,
}

pub async fn whoami(caller: Caller) -> Json<WhoAmI> {
    Json(WhoAmI {
        subject: caller.subject,
        operator_id: caller.operator_id,
        roles: caller.roles,
    })
}
