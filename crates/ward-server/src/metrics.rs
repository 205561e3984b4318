//! Prometheus metrics: requests by route and status, latencies and audit
//! appends (counted in the audit crate), rendered at `/metrics`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::state::AppState;

/// Installs the process-wide recorder. Returns `None` when one is already
/// installed, as happens when several servers share a test process.
pub fn install_recorder() -> Option<PrometheusHandle> {
    match PrometheusBuilder::new().install_recorder() {
        Ok(handle) => Some(handle),
        Err(err) => {
            tracing::warn!(error = %err, "metrics recorder not installed; /metrics will be empty");
            None
        }
    }
}

/// Records `ward_http_requests_total` and `ward_http_request_duration_seconds`
/// labelled with the route template (not the raw path) and status.
pub async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::counter!("ward_http_requests_total", &labels).increment(1);
    metrics::histogram!("ward_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

pub async fn render(State(state): State<AppState>) -> Response {
    match &state.metrics {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder not installed\n",
        )
            .into_response(),
    }
}
