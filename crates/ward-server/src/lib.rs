//! Ward's HTTP server.
//!
//! [`serve`] opens the store in the data folder, loads the server keys, starts
//! the lifecycle and checkpoint jobs and serves the API: over TLS by default,
//! or plain HTTP on loopback in development mode.

pub mod activity;
pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod jobs;
pub mod keys;
pub mod metrics;
pub mod openapi;
pub mod rotation;
mod serve;
pub mod state;
pub mod tls;
pub mod vault_api;

pub use config::ServerConfig;
pub use serve::{app, open_state, schemas, serve, verify_audit_offline};
pub use state::AppState;
