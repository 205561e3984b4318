//! Rotation connectors and dynamic PostgreSQL credentials for Ward's vault.
//!
//! A [`Connector`] changes a credential at the system that checks it: a
//! PostgreSQL login role ([`PostgresConnector`]) or an HTTP receiver that
//! applies the secret itself ([`WebhookConnector`]). The vault builds
//! connectors from [`ConnectorConfig`] and holds them as
//! `Arc<dyn Connector>`. [`DynamicPostgres`] creates a login role per lease
//! and drops it when the lease ends.
//!
//! Secret values are [`secrecy::SecretString`] throughout. No error, log line
//! or `Debug` output of this crate contains one, and PostgreSQL receives only
//! SCRAM-SHA-256 verifiers ([`scram`]), never a plain password.
//!
//! Time comes from the caller (`now` arguments, from `ward_core::clock`),
//! except PostgreSQL's own `VALID UNTIL` check, which uses the server clock.

pub mod config;
pub mod connector;
pub mod dynamic;
pub mod error;
pub mod password;
pub mod pg;
pub mod postgres;
pub mod scram;
pub mod webhook;

pub use config::ConnectorConfig;
pub use connector::{
    Connector, ConnectorKind, RotationId, RotationKind, RotationReceipt, TargetSpec, Verification,
};
pub use dynamic::{
    DynamicCredential, DynamicPostgres, DynamicPostgresConfig, Lease, LeaseId, LeaseRequest,
    ReapReport, RevokeOutcome,
};
pub use error::{ConfigError, ConnectorError};
pub use password::PasswordPolicy;
pub use pg::PgAdmin;
pub use postgres::{PostgresConfig, PostgresConnector};
pub use webhook::{WebhookConfig, WebhookConnector};
