//! A bot keeps working while its PostgreSQL password is rotated.
//!
//! PostgreSQL checks a password only when a session starts, so a rotation
//! must not break a session that is already open, and every run that starts
//! with the credential the vault currently serves must succeed. The only runs
//! allowed to fail are those that present the old password after the
//! rotation changed it.
//!
//! The test server may trust loopback logins, so a run authenticates through
//! `PgAdmin::check_password`, which also compares the stored SCRAM verifier.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code"
)]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use secrecy::SecretString;
use sqlx::postgres::PgConnection;
use tokio::sync::{Notify, RwLock};
use ward_connect::{Connector, PasswordPolicy, PgAdmin, PostgresConfig};

use common::*;

/// The value the vault serves for the bot's secret, with its version.
#[derive(Clone)]
struct Served {
    version: u64,
    password: SecretString,
}

/// Where a run stood relative to the rotation when it authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RotationPhase {
    Before,
    During,
    After,
}

#[derive(Debug)]
struct Run {
    bot: &'static str,
    version: u64,
    /// Phase when authentication began and when it ended.
    auth_began: RotationPhase,
    auth_ended: RotationPhase,
    /// Outcome of authentication, then of the work in the open session.
    auth: Result<(), String>,
    work: Result<(), String>,
}

impl Run {
    fn succeeded(&self) -> bool {
        self.auth.is_ok() && self.work.is_ok()
    }
}

struct Shared {
    url: String,
    role: String,
    admin: PgAdmin,
    served: RwLock<Served>,
    rotation_started: AtomicBool,
    rotation_done: AtomicBool,
}

impl Shared {
    fn phase(&self) -> RotationPhase {
        if self.rotation_done.load(Ordering::SeqCst) {
            RotationPhase::After
        } else if self.rotation_started.load(Ordering::SeqCst) {
            RotationPhase::During
        } else {
            RotationPhase::Before
        }
    }

    /// Authenticates and opens the bot's session.
    async fn start_session(&self, password: &SecretString) -> Result<PgConnection, String> {
        self.admin
            .check_password(&self.role, password)
            .await
            .map_err(|err| err.to_string())?;
        login(&self.url, &self.role, password)
            .await
            .map_err(|err| err.to_string())
    }
}

/// Runs one unit of bot work in an open session.
async fn work(session: &mut PgConnection, role: &str) -> Result<(), String> {
    let user: String = sqlx::query_scalar("SELECT current_user::text")
        .fetch_one(&mut *session)
        .await
        .map_err(|err| err.to_string())?;
    if user != role {
        return Err(format!("session runs as {user}, expected {role}"));
    }
    Ok(())
}

/// Runs the bot once: fetch the served credential, authenticate, work twice.
async fn run_once(shared: &Shared, bot: &'static str, pause: Option<(&Notify, &Notify)>) -> Run {
    let served = shared.served.read().await.clone();
    let auth_began = shared.phase();
    let session = shared.start_session(&served.password).await;
    let auth_ended = shared.phase();
    let mut run = Run {
        bot,
        version: served.version,
        auth_began,
        auth_ended,
        auth: Ok(()),
        work: Ok(()),
    };
    let mut session = match session {
        Ok(session) => session,
        Err(err) => {
            run.auth = Err(err);
            return run;
        }
    };
    run.work = async {
        work(&mut session, &shared.role).await?;
        if let Some((paused, resume)) = pause {
            paused.notify_one();
            resume.notified().await;
        }
        work(&mut session, &shared.role).await
    }
    .await;
    run
}

#[tokio::test]
async fn bot_keeps_working_across_rotation() {
    let Some(url) = postgres_url() else { return };
    const STEADY_RUNS: usize = 8;
    const MAX_BACKGROUND_RUNS: usize = 400;

    let role = unique("wt_bot");
    let first = PasswordPolicy::default().generate().unwrap();
    create_login_role(&url, &role, &first).await;
    let connector = PostgresConfig {
        admin_url: SecretString::from(url.clone()),
        connect_timeout_ms: 5_000,
        verify_database: None,
    }
    .build()
    .unwrap();
    let shared = Arc::new(Shared {
        url: url.clone(),
        role: role.clone(),
        admin: connector.admin().clone(),
        served: RwLock::new(Served {
            version: 1,
            password: first.clone(),
        }),
        rotation_started: AtomicBool::new(false),
        rotation_done: AtomicBool::new(false),
    });
    let paused = Arc::new(Notify::new());
    let resume = Arc::new(Notify::new());

    // Bot A runs in sequence and keeps one run open across the rotation.
    let bot_a = {
        let (shared, paused, resume) = (shared.clone(), paused.clone(), resume.clone());
        tokio::spawn(async move {
            let mut runs = Vec::new();
            for _ in 0..STEADY_RUNS {
                runs.push(run_once(&shared, "a", None).await);
            }
            runs.push(run_once(&shared, "a", Some((&paused, &resume))).await);
            for _ in 0..STEADY_RUNS {
                runs.push(run_once(&shared, "a", None).await);
            }
            runs
        })
    };

    // Bot B loops without pausing, so its runs fall at any point of the
    // rotation. It stops three runs after the rotation, or at the bound.
    let bot_b = {
        let shared = shared.clone();
        tokio::spawn(async move {
            let mut runs: Vec<Run> = Vec::new();
            while runs.len() < MAX_BACKGROUND_RUNS {
                let run = run_once(&shared, "b", None).await;
                let settled = run.version == 2;
                runs.push(run);
                if settled && runs.iter().filter(|run| run.version == 2).count() >= 3 {
                    break;
                }
                tokio::task::yield_now().await;
            }
            runs
        })
    };

    // The rotation, as the vault runs it: change the target, then serve the
    // new version.
    paused.notified().await;
    let second = PasswordPolicy::default().generate().unwrap();
    shared.rotation_started.store(true, Ordering::SeqCst);
    connector.rotate(&target(&role, 2), &second).await.unwrap();
    shared.rotation_done.store(true, Ordering::SeqCst);
    *shared.served.write().await = Served {
        version: 2,
        password: second.clone(),
    };
    resume.notify_one();

    let mut runs = bot_a.await.unwrap();
    runs.extend(bot_b.await.unwrap());

    // A client that cached the old value and connects now must be refused,
    // which shows the check can fail at all.
    let stale = shared.start_session(&first).await;
    assert!(
        stale.is_err(),
        "the old password still authenticates after the rotation"
    );

    for run in &runs {
        // An open session never breaks, whatever its password.
        assert!(run.work.is_ok(), "work in an open session failed: {run:?}");
        // Authentication with the served value may fail only if the value
        // was the old one and the rotation began before the check ended.
        let old_password_overlapping = run.version == 1 && run.auth_ended != RotationPhase::Before;
        if !old_password_overlapping {
            assert!(run.auth.is_ok(), "authentication failed: {run:?}");
        }
        if run.version == 1 && run.auth_began == RotationPhase::After {
            assert!(
                run.auth.is_err(),
                "old password worked after the rotation: {run:?}"
            );
        }
    }
    let refused = runs.iter().filter(|run| run.auth.is_err()).count();
    eprintln!(
        "{} runs, {refused} refused with the old password during or after the rotation",
        runs.len()
    );

    // Bot a's paused run counts among its first-password runs, so this also
    // shows a session opened before the rotation kept working after it.
    let count = |bot: &str, version: u64| {
        runs.iter()
            .filter(|run| run.bot == bot && run.version == version && run.succeeded())
            .count()
    };
    assert_eq!(
        count("a", 1),
        STEADY_RUNS + 1,
        "bot a, runs with the first password"
    );
    assert_eq!(
        count("a", 2),
        STEADY_RUNS,
        "bot a, runs with the second password"
    );
    assert!(count("b", 1) >= 1, "bot b never ran before the rotation");
    assert!(
        count("b", 2) >= 3,
        "bot b did not finish three runs after the rotation"
    );

    drop_role(&url, &role).await;
}
