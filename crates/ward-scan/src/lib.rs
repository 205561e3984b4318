//! `ward scan`: finds hardcoded credentials in RPA projects, configuration files,
//! scripts, archives and git history, and plans their move into the vault.
//!
//! A [`Scanner`] is built once from a [`rules::RuleSet`] and shared by the
//! threads of [`walk::scan_paths`] or by [`git::scan_history`]. Each file goes
//! through [`Scanner::scan_file`]: classify (workbook, zip, text), decode
//! (UTF-8 or UTF-16), run the regex rules and generic detectors over the text,
//! add structure-aware candidates (XML/XAML, Blue Prism, Excel cells, Power
//! Automate Desktop, JSON name/value objects), then merge overlaps, apply
//! allowlists and fingerprint.

pub mod baseline;
mod describe;
pub mod detect;
pub mod error;
pub mod formats;
pub mod git;
pub mod migrate;
pub mod report;
mod resolve;
pub mod rules;
pub mod scanner;
pub mod upload;
pub mod walk;

pub use describe::CODE_RULES;
pub use error::ScanError;
pub use scanner::{FileInput, FileReport, ScanOptions, Scanner, Skipped, Warning, fingerprint};
