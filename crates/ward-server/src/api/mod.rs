//! Ward's own HTTP API under `/v1`.

mod alerts;
pub(crate) mod audit;
pub mod bots;
mod events;
mod findings;
mod json;
mod operators;
mod people;
mod requests;
mod sys;
mod workflows;

use axum::Router;
use axum::routing::{get, post};

pub use bots::{change_state, find_bot};
pub use json::{ApiJson, ApiQuery};

use crate::state::AppState;

/// The routes of Ward's own API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sys/clock", post(sys::advance_clock))
        .route("/v1/sys/jobs/lifecycle", post(sys::run_lifecycle))
        .route("/v1/auth/login", post(operators::login))
        .route("/v1/auth/logout", post(operators::logout))
        .route("/v1/auth/whoami", get(operators::whoami))
        .route("/v1/people", post(people::create).get(people::list))
        .route("/v1/people/{id}", get(people::show))
        .route("/v1/people/{id}/leave", post(people::leave))
        .route(
            "/v1/operators",
            post(operators::create).get(operators::list),
        )
        .route("/v1/bots", post(bots::create).get(bots::list))
        .route("/v1/bots/{id}", get(bots::show))
        .route("/v1/bots/{id}/review", post(bots::review))
        .route(
            "/v1/bots/{id}/workflows",
            post(workflows::upload).get(workflows::list),
        )
        .route("/v1/bots/{id}/{transition}", post(bots::transition))
        .route("/v1/requests", post(requests::create).get(requests::list))
        .route("/v1/requests/{id}/{decision}", post(requests::decide))
        .route("/v1/audit", get(audit::query))
        .route("/v1/audit/verify", get(audit::verify))
        .route("/v1/events", post(events::ingest_batch).get(events::list))
        .route("/v1/alerts", get(alerts::list))
        .route("/v1/alerts/{id}", get(alerts::show))
        .route("/v1/alerts/{id}/ocsf", get(alerts::ocsf))
        .route("/v1/alerts/{id}/{verdict}", post(alerts::decide))
        .route("/v1/findings", post(findings::report).get(findings::list))
}
