//! Scheduled jobs: the bot lifecycle and signed audit checkpoints.
//!
//! Both read time from the injected clock. The lifecycle job marks bots whose
//! review date has passed as overdue, quarantines them after the grace period,
//! hands bots whose owner left to the backup owner, and quarantines bots whose
//! owner and backup owner have both left.

use std::time::Duration as StdDuration;

use serde::Serialize;
use ward_audit::{AuditEntry, Outcome};
use ward_core::bot::{BotState, Transition};
use ward_store::bots::{self, Bot, BotFilter};
use ward_store::people;

use crate::api::change_state;
use crate::error::ApiResult;
use crate::state::AppState;

const SYSTEM: &str = "system";

/// What one lifecycle run changed, by bot name.
#[derive(Debug, Default, Serialize)]
pub struct LifecycleReport {
    pub review_overdue: Vec<String>,
    pub quarantined: Vec<String>,
    pub handed_to_backup: Vec<String>,
    pub flagged: Vec<String>,
}

/// Runs the lifecycle rules over every bot that is not retired.
pub async fn run_lifecycle_once(state: &AppState) -> ApiResult<LifecycleReport> {
    let mut report = LifecycleReport::default();
    let all = {
        let mut conn = state.store.reader().acquire().await?;
        bots::list(&mut conn, &BotFilter::default()).await?
    };
    for bot in all
        .into_iter()
        .filter(|b| b.state != BotState::Retired.as_str())
    {
        check_owners(state, &bot, &mut report).await?;
        check_review(state, &bot, &mut report).await?;
    }
    tracing::info!(
        overdue = report.review_overdue.len(),
        quarantined = report.quarantined.len(),
        handed = report.handed_to_backup.len(),
        "lifecycle job finished"
    );
    Ok(report)
}

async fn check_owners(state: &AppState, bot: &Bot, report: &mut LifecycleReport) -> ApiResult<()> {
    let mut tx = state.store.begin_write().await?;
    let Some(bot) = bots::find(&mut tx, &bot.id).await? else {
        return Ok(());
    };
    let owner = people::find(&mut tx, &bot.owner_id).await?;
    let backup = people::find(&mut tx, &bot.backup_owner_id).await?;
    let owner_left = owner.as_ref().is_none_or(|p| p.status == "left");
    let backup_left = backup.as_ref().is_none_or(|p| p.status == "left");
    let now = state.now();
    let now_text = ward_core::clock::format_timestamp(now);

    match (owner_left, backup_left) {
        (false, false) => return Ok(()),
        (true, false) => {
            let flag = "owner_left: handed to the backup owner; assign a new backup owner";
            bots::set_owners(
                &mut tx,
                &bot.id,
                &bot.backup_owner_id,
                &bot.owner_id,
                Some(flag),
                &now_text,
            )
            .await?;
            let entry = AuditEntry::new(SYSTEM, "bot.owner_handover", Outcome::Success).bot(&bot.id).details(serde_json::json!({
                "previous_owner": bot.owner_id, "new_owner": bot.backup_owner_id, "reason": "owner has left",
            }));
            ward_audit::append(&mut tx, now, &entry).await?;
            report.handed_to_backup.push(bot.name.clone());
        }
        (false, true) => {
            let flag = "backup_owner_left: assign a new backup owner";
            // After a handover the leaver is the backup owner, and the
            // `owner_left` flag already asks for a new one.
            let flagged = bot
                .owner_flag
                .as_deref()
                .is_some_and(|f| f == flag || f.starts_with("owner_left"));
            if flagged {
                return Ok(());
            }
            bots::set_owners(
                &mut tx,
                &bot.id,
                &bot.owner_id,
                &bot.backup_owner_id,
                Some(flag),
                &now_text,
            )
            .await?;
            let entry = AuditEntry::new(SYSTEM, "bot.owner_flag", Outcome::Success)
                .bot(&bot.id)
                .details(serde_json::json!({"flag": flag}));
            ward_audit::append(&mut tx, now, &entry).await?;
            report.flagged.push(bot.name.clone());
        }
        (true, true) => {
            let flag = "orphaned: owner and backup owner have both left";
            if bot.owner_flag.as_deref() != Some(flag) {
                bots::set_owners(
                    &mut tx,
                    &bot.id,
                    &bot.owner_id,
                    &bot.backup_owner_id,
                    Some(flag),
                    &now_text,
                )
                .await?;
                report.flagged.push(bot.name.clone());
            }
            if bot.state != BotState::Quarantined.as_str() {
                change_state(state, &mut tx, &bot, Transition::Quarantine, SYSTEM, flag).await?;
                report.quarantined.push(bot.name.clone());
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Marks a bot whose review date has passed as overdue, and quarantines it
/// once the grace period after the review date is over. The grace period
/// counts from the review date, not from the run that noticed it, so a job
/// that ran late does not extend it.
async fn check_review(state: &AppState, bot: &Bot, report: &mut LifecycleReport) -> ApiResult<()> {
    let now = state.now();
    let now_text = ward_core::clock::format_timestamp(now);
    let mut tx = state.store.begin_write().await?;
    let Some(bot) = bots::find(&mut tx, &bot.id).await? else {
        return Ok(());
    };
    if bot.review_by.as_str() > now_text.as_str() {
        return Ok(());
    }
    let mut changed = false;
    if bot.review_overdue_since.is_none() {
        bots::mark_review_overdue(&mut tx, &bot.id, &now_text).await?;
        let entry = AuditEntry::new(SYSTEM, "bot.review_overdue", Outcome::Success)
            .bot(&bot.id)
            .details(serde_json::json!({"review_by": bot.review_by}));
        ward_audit::append(&mut tx, now, &entry).await?;
        report.review_overdue.push(bot.name.clone());
        changed = true;
    }
    let review_by = ward_core::clock::parse_timestamp(&bot.review_by)
        .map_err(|err| crate::error::ApiError::internal("reading review_by", err))?;
    let grace_over = now >= review_by + time::Duration::days(state.config.review_grace_days);
    let may_quarantine =
        bot.state == BotState::Active.as_str() || bot.state == BotState::Suspended.as_str();
    if grace_over && may_quarantine {
        let reason = format!(
            "review overdue since {}, past the {}-day grace period",
            bot.review_by, state.config.review_grace_days
        );
        change_state(
            state,
            &mut tx,
            &bot,
            Transition::Quarantine,
            SYSTEM,
            &reason,
        )
        .await?;
        report.quarantined.push(bot.name.clone());
        changed = true;
    }
    if changed {
        tx.commit().await?;
    }
    Ok(())
}

/// Runs the lifecycle job every `lifecycle_interval_secs` until the process ends.
pub async fn lifecycle_loop(state: AppState) {
    let period = StdDuration::from_secs(state.config.lifecycle_interval_secs.max(1));
    let mut ticker = tokio::time::interval(period);
    ticker.tick().await;
    loop {
        ticker.tick().await;
        if let Err(err) = run_lifecycle_once(&state).await {
            tracing::error!(code = err.code, message = %err.message, "lifecycle job failed; retrying at the next tick");
        }
    }
}

/// Signs a checkpoint of the audit chain head every `checkpoint_interval_secs`.
pub async fn checkpoint_loop(state: AppState) {
    let period = StdDuration::from_secs(state.config.checkpoint_interval_secs.max(1));
    let mut ticker = tokio::time::interval(period);
    loop {
        ticker.tick().await;
        if let Err(err) = write_checkpoint(&state).await {
            tracing::error!(error = %err, "audit checkpoint failed; retrying at the next tick");
        }
    }
}

/// Signs a checkpoint of the current chain head, if it moved.
pub async fn write_checkpoint(state: &AppState) -> Result<Option<i64>, ward_audit::AuditError> {
    let mut tx = state.store.begin_write().await.map_err(|err| match err {
        ward_store::StoreError::Database(db) => ward_audit::AuditError::Database(db),
        other => ward_audit::AuditError::Database(sqlx::Error::Protocol(other.to_string())),
    })?;
    let seq = ward_audit::write_checkpoint(&mut tx, &state.signer, state.now()).await?;
    tx.commit().await?;
    Ok(seq)
}
