//! Starting and stopping the server.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use axum::Router;
use axum::routing::get;
use tower_http::limit::RequestBodyLimitLayer;
use ward_audit::{AuditEntry, CheckpointSigner, Outcome};
use ward_core::clock::{ManualClock, SharedClock, SystemClock};
use ward_store::{Schema, Store};

use crate::ServerConfig;
use crate::keys::ServerKeys;
use crate::state::AppState;

/// Every schema the server needs, in the order they are migrated.
pub fn schemas() -> Vec<Schema> {
    vec![
        ward_audit::SCHEMA,
        crate::activity::ACTIVITY_SCHEMA,
        ward_vault::SCHEMA,
        crate::rotation::SCHEMA,
    ]
}

/// Builds the full router over `state`.
pub fn app(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    crate::api::router()
        .merge(crate::vault_api::router())
        .merge(crate::rotation::router())
        .route("/metrics", get(crate::metrics::render))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::vault_api::refuse_when_sealed,
        ))
        .route("/v1/openapi.json", get(crate::openapi::serve_document))
        .layer(axum::middleware::from_fn(crate::metrics::track))
        // Extractors such as `Bytes` and `Json` stop at 2 MB by default, so
        // they get the configured limit too.
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(RequestBodyLimitLayer::new(max_body))
        .with_state(state)
}

/// Opens the data folder and builds the state shared by handlers and jobs.
pub async fn open_state(config: ServerConfig) -> anyhow::Result<AppState> {
    config.validate()?;
    let keys_dir = config.data_dir.join("keys");
    let store = Store::open(&config.data_dir, &schemas()).await?;
    let keys = ServerKeys::load_or_create(&keys_dir)?;
    let signer = CheckpointSigner::load_or_create(&keys_dir)?;
    let manual_clock = config.test_clock.then(ManualClock::new);
    let clock: SharedClock = match &manual_clock {
        Some(clock) => Arc::new(clock.clone()),
        None => Arc::new(SystemClock),
    };
    let detection = crate::activity::Detection::load(store.reader()).await?;
    let vault = crate::vault_api::open_vault(&store, config.dev, clock.now()).await?;
    Ok(AppState {
        vault,
        detection,
        store,
        clock,
        manual_clock,
        keys: Arc::new(keys),
        signer: Arc::new(signer),
        config: Arc::new(config),
        metrics: crate::metrics::install_recorder(),
    })
}

/// Runs the server until SIGINT or SIGTERM.
pub async fn serve(config: ServerConfig) -> anyhow::Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let state = open_state(config).await?;
    let config = state.config.clone();
    ensure_root_token(&state).await?;

    let jobs = [
        tokio::spawn(crate::jobs::lifecycle_loop(state.clone())),
        tokio::spawn(crate::jobs::checkpoint_loop(state.clone())),
        tokio::spawn(crate::activity::audit_tail_loop(state.clone())),
        tokio::spawn(crate::rotation::rotation_loop(state.clone())),
    ];
    state
        .audit_alone(
            AuditEntry::new("system", "server.start", Outcome::Success)
                .details(serde_json::json!({"dev": config.dev})),
        )
        .await
        .map_err(|err| {
            anyhow::anyhow!(
                "cannot write the start entry to the audit log: {}",
                err.message
            )
        })?;

    let app = app(state.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let handle = axum_server::Handle::new();
    tokio::spawn(shutdown_on_signal(handle.clone()));
    if config.dev {
        tracing::warn!(listen = %config.listen, "DEVELOPMENT MODE: plain HTTP, root token printed; never use this in production");
        axum_server::bind(config.listen)
            .handle(handle)
            .serve(app)
            .await
            .context("HTTP server failed")?;
    } else {
        let tls = crate::tls::load(
            config.tls_cert.as_deref(),
            config.tls_key.as_deref(),
            &config.data_dir,
        )
        .await?;
        tracing::info!(listen = %config.listen, "serving HTTPS");
        axum_server::bind_rustls(config.listen, tls)
            .handle(handle)
            .serve(app)
            .await
            .context("HTTPS server failed")?;
    }

    for job in jobs {
        job.abort();
    }
    let _ = crate::jobs::write_checkpoint(&state).await;
    state
        .audit_alone(AuditEntry::new("system", "server.stop", Outcome::Success))
        .await
        .ok();
    state.store.close().await;
    tracing::info!("server stopped");
    Ok(())
}

/// In development mode, registers the root token (random, or taken from
/// `WARD_DEV_ROOT_TOKEN`) and prints it. Otherwise, on the first start only,
/// creates a root token and prints it once on standard output.
async fn ensure_root_token(state: &AppState) -> anyhow::Result<()> {
    let mut tx = state.store.begin_write().await?;
    let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE subject = 'root'")
        .fetch_one(&mut *tx)
        .await?;
    let token = match (&state.config.dev, &state.config.dev_root_token) {
        (true, Some(token)) => token.clone(),
        (true, None) => crate::auth::new_token(),
        (false, _) if existing == 0 => crate::auth::new_token(),
        (false, _) => return Ok(()),
    };
    if state.config.dev {
        // Each development start prints a new root token; the earlier ones stop working.
        sqlx::query("DELETE FROM sessions WHERE subject = 'root' AND operator_id IS NULL")
            .execute(&mut *tx)
            .await?;
    }
    let now = state.now_text();
    ward_store::sessions::insert(
        &mut tx,
        &state.keys.hash_token(&token),
        None,
        "root",
        "admin",
        &now,
        "9999-12-31T23:59:59.999999Z",
    )
    .await?;
    ward_audit::append(
        &mut tx,
        state.now(),
        &AuditEntry::new("system", "auth.root_token", Outcome::Success),
    )
    .await?;
    tx.commit().await?;
    if state.config.dev {
        println!("WARNING: development mode. Root token: {token}");
        println!(
            "export WARD_ADDR=http://{} WARD_TOKEN={token}",
            state.config.listen
        );
    } else {
        println!("Initial root token (shown once; store it safely): {token}");
    }
    Ok(())
}

async fn shutdown_on_signal(handle: axum_server::Handle<std::net::SocketAddr>) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutdown signal received; draining connections");
    handle.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
}

/// Verifies the audit chain in `data_dir` without a server, using the public
/// key in `public_key` or the one in the data folder.
pub async fn verify_audit_offline(
    data_dir: &Path,
    public_key: Option<&Path>,
) -> anyhow::Result<ward_audit::VerifyReport> {
    let pool = Store::open_read_only(data_dir).await?;
    let key_path = public_key.map_or_else(|| data_dir.join("keys"), Path::to_path_buf);
    let key = ward_audit::read_public_key(&key_path)?;
    let report = ward_audit::verify(&pool, &key).await;
    pool.close().await;
    Ok(report?)
}
