//! Ward's persistence layer.
//!
//! [`Store`] opens the embedded SQLite database in the data folder (one file,
//! WAL journal, `synchronous = FULL` so a committed write survives a crash of
//! the process or the machine). It keeps one writer connection, so writes are
//! serialised in the process and the audit chain can read its head inside the
//! writing transaction, plus a small pool of readers.
//!
//! Each crate that keeps state owns its tables as a [`Schema`]: an ordered list
//! of migrations under a component name. [`Store::open`] applies the missing
//! ones at start and refuses a database whose schema is newer than the binary.

pub mod bots;
mod error;
pub mod files;
mod migrate;
pub mod operators;
pub mod people;
pub mod requests;
pub mod sessions;
pub mod workflows;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};

pub use error::StoreError;
pub use migrate::Schema;

/// Name of the database file inside the data folder.
pub const DATABASE_FILE: &str = "ward.db";

/// The tables of the core domain: people, operators, sessions, bots,
/// workflows and access requests.
pub const CORE_SCHEMA: Schema = Schema {
    component: "core",
    migrations: &[
        include_str!("../migrations/core_001_initial.sql"),
        include_str!("../migrations/core_002_totp_last_step.sql"),
    ],
};

/// A write transaction on the single writer connection.
pub type WriteTx = Transaction<'static, Sqlite>;

/// The embedded SQLite store.
#[derive(Debug, Clone)]
pub struct Store {
    writer: SqlitePool,
    reader: SqlitePool,
    path: PathBuf,
}

impl Store {
    /// Opens or creates `ward.db` in `data_dir` and applies every schema's
    /// missing migrations, core first.
    pub async fn open(data_dir: &Path, schemas: &[Schema]) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let path = data_dir.join(DATABASE_FILE);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(write_options(&path))
            .await
            .map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })?;
        migrate::apply(&writer, &path, &CORE_SCHEMA).await?;
        for schema in schemas {
            migrate::apply(&writer, &path, schema).await?;
        }
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(write_options(&path).read_only(true))
            .await
            .map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })?;
        tracing::info!(path = %path.display(), "store opened");
        Ok(Store {
            writer,
            reader,
            path,
        })
    }

    /// Opens an existing database read-only without migrating it, for offline
    /// tools such as `ward audit verify`.
    pub async fn open_read_only(data_dir: &Path) -> Result<SqlitePool, StoreError> {
        let path = data_dir.join(DATABASE_FILE);
        if !path.exists() {
            return Err(StoreError::Missing { path });
        }
        SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                SqliteConnectOptions::from_str("sqlite://")
                    .map_err(|source| StoreError::Open {
                        path: path.clone(),
                        source,
                    })?
                    .filename(&path)
                    .read_only(true)
                    .busy_timeout(Duration::from_secs(10)),
            )
            .await
            .map_err(|source| StoreError::Open { path, source })
    }

    /// Starts a write transaction. Writes queue behind each other here.
    pub async fn begin_write(&self) -> Result<WriteTx, StoreError> {
        self.writer.begin().await.map_err(StoreError::from)
    }

    /// The pool of read-only connections.
    pub fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    /// The pool holding the single writer connection, for callers that need a
    /// write without a transaction of their own.
    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes both pools, waiting for open connections to finish.
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

fn write_options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
}
