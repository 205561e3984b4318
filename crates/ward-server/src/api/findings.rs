//! `/v1/findings`: hardcoded secrets reported by `ward scan --report-to`,
//! linked to the bot whose registered workflow contains the file.
//!
//! Findings arrive redacted: the server refuses any finding that carries a
//! secret value.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ward_audit::{AuditEntry, Outcome};
use ward_core::id::{FindingKind, Id};
use ward_core::person::Role;

use super::bots::find_bot;
use super::{ApiJson, ApiQuery};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Most findings one report may carry.
pub const MAX_FINDINGS: usize = 50_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    scanner: Option<String>,
    version: Option<String>,
    findings: Option<Vec<Value>>,
}

#[derive(Debug, Serialize)]
pub struct ReportSummary {
    stored: usize,
    linked: usize,
}

/// Field names that would carry a secret value; a finding holding any of
/// them with a non-redacted value is rejected.
const SECRET_FIELDS: [&str; 3] = ["secret", "match", "raw"];

pub async fn report(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Report>,
) -> ApiResult<(StatusCode, Json<ReportSummary>)> {
    caller
        .require(
            &state,
            &[Role::Admin, Role::Builder, Role::Operator],
            "findings.report",
        )
        .await?;
    let findings = body.findings.ok_or_else(|| ApiError::missing("findings"))?;
    if findings.len() > MAX_FINDINGS {
        return Err(ApiError::invalid(
            "findings",
            format!(
                "holds {} findings; send at most {MAX_FINDINGS} per report",
                findings.len()
            ),
        ));
    }
    for (index, finding) in findings.iter().enumerate() {
        check_finding(index, finding)?;
    }
    let now = state.now_text();
    let mut tx = state.store.begin_write().await?;
    let mut linked = 0;
    for finding in &findings {
        let text = |key: &str| {
            finding
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let (fingerprint, rule_id, file) = (text("fingerprint"), text("rule_id"), text("file"));
        let file_sha256 = finding
            .get("file_sha256")
            .and_then(Value::as_str)
            .map(str::to_string);
        let file_name = finding
            .get("file_name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                file.rsplit(['/', '\\'])
                    .next()
                    .unwrap_or_default()
                    .to_string()
            });
        let matches = ward_store::workflows::find_by_content_or_name(
            &mut tx,
            file_sha256.as_deref().unwrap_or(""),
            &file_name,
        )
        .await?;
        let bot_id = matches.first().map(|w| w.bot_id.clone());
        linked += usize::from(bot_id.is_some());
        sqlx::query(
            "INSERT INTO findings (id, fingerprint, rule_id, file, line, file_sha256, bot_id, body, first_reported_at, \
             last_reported_at, reported_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT(fingerprint) DO UPDATE SET last_reported_at = excluded.last_reported_at, \
             bot_id = COALESCE(excluded.bot_id, findings.bot_id), body = excluded.body",
        )
        .bind(Id::<FindingKind>::generate().to_string())
        .bind(&fingerprint)
        .bind(&rule_id)
        .bind(&file)
        .bind(finding.get("line").and_then(Value::as_i64))
        .bind(&file_sha256)
        .bind(&bot_id)
        .bind(finding.to_string())
        .bind(&now)
        .bind(&now)
        .bind(&caller.subject)
        .execute(&mut *tx)
        .await?;
    }
    let entry = AuditEntry::new(&caller.subject, "findings.report", Outcome::Success).details(serde_json::json!({
        "scanner": body.scanner, "version": body.version, "findings": findings.len(), "linked": linked,
    }));
    ward_audit::append(&mut tx, state.now(), &entry).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(ReportSummary {
            stored: findings.len(),
            linked,
        }),
    ))
}

fn check_finding(index: usize, finding: &Value) -> ApiResult<()> {
    let field = |name: &str| format!("findings[{index}].{name}");
    if !finding.is_object() {
        return Err(ApiError::invalid(
            &format!("findings[{index}]"),
            "must be an object",
        ));
    }
    for required in ["fingerprint", "rule_id", "file"] {
        let present = finding
            .get(required)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.trim().is_empty());
        if !present {
            return Err(ApiError::missing(&field(required)));
        }
    }
    for key in SECRET_FIELDS {
        let value = finding.get(key).and_then(Value::as_str);
        if value.is_some_and(|v| !looks_redacted(v)) {
            return Err(ApiError::invalid(
                &field(key),
                "carries what looks like a secret value: send findings redacted",
            ));
        }
    }
    Ok(())
}

/// Accepts only values that are masked, such as `Fa***24` or `REDACTED`.
fn looks_redacted(value: &str) -> bool {
    value.is_empty()
        || value.contains("***")
        || value.contains('…')
        || value.eq_ignore_ascii_case("redacted")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingQuery {
    bot: Option<String>,
    limit: Option<i64>,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(query): ApiQuery<FindingQuery>,
) -> ApiResult<Json<Vec<Value>>> {
    caller
        .require(
            &state,
            &[Role::Admin, Role::Builder, Role::Operator, Role::Auditor],
            "findings.list",
        )
        .await?;
    let limit = query.limit.unwrap_or(1000);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 10000"));
    }
    let mut conn = state.store.reader().acquire().await?;
    let bot_id = match &query.bot {
        Some(reference) => Some(find_bot(&mut conn, reference).await?.id),
        None => None,
    };
    let rows: Vec<(String, Option<String>, String, String)> = sqlx::query_as(
        "SELECT body, bot_id, first_reported_at, last_reported_at FROM findings WHERE (?1 IS NULL OR bot_id = ?1) \
         ORDER BY file, line LIMIT ?2",
    )
    .bind(&bot_id)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let findings = rows
        .into_iter()
        .filter_map(|(body, bot, first, last)| {
            let mut value: Value = serde_json::from_str(&body).ok()?;
            value["bot_id"] = serde_json::json!(bot);
            value["first_reported_at"] = serde_json::json!(first);
            value["last_reported_at"] = serde_json::json!(last);
            Some(value)
        })
        .collect();
    Ok(Json(findings))
}
