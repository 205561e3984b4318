//! Errors of the scanner library.

/// What can stop a scan or a part of it.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A file or folder could not be read.
    #[error("failed to read {path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A rule or configuration file is invalid.
    #[error("invalid configuration in {origin}: {message}")]
    Config {
        /// File or source of the configuration.
        origin: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A baseline file is invalid.
    #[error(
        "invalid baseline {path}: {message}; pass a JSON report from `ward scan --format json` or a file of fingerprints, one per line"
    )]
    Baseline {
        /// The path.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// `git` failed while reading history.
    #[error("git history scan of {repo} failed: {message}")]
    Git {
        /// Repository path.
        repo: String,
        /// What failed.
        message: String,
    },
    /// Sending findings to a Ward server failed.
    #[error("sending findings to {url} failed: {message}")]
    Upload {
        /// Target URL, without credentials.
        url: String,
        /// What failed.
        message: String,
    },
}
