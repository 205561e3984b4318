use std::path::PathBuf;

/// A failure in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the data folder {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot open the database {path}: {source}")]
    Open { path: PathBuf, source: sqlx::Error },

    #[error("no Ward database at {path}: check --data-dir")]
    Missing { path: PathBuf },

    #[error(
        "the database {path} has schema version {found} for `{component}`, newer than this ward binary knows ({supported}): \
         upgrade ward, or restore a backup made by this version"
    )]
    SchemaTooNew {
        path: PathBuf,
        component: &'static str,
        found: i64,
        supported: i64,
    },

    #[error("migration {version} of `{component}` failed on {path}: {source}")]
    Migration {
        path: PathBuf,
        component: &'static str,
        version: i64,
        source: sqlx::Error,
    },

    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// Reports whether the error is a UNIQUE constraint violation.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(db)) => db.is_unique_violation(),
            _ => false,
        }
    }
}
