//! Scanning folders and files: a parallel walk that honours `.gitignore`, with a
//! size limit, bounded memory (one file per thread in memory) and warnings for
//! inputs that cannot be read.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use ignore::{WalkBuilder, WalkState};
use ward_core::finding::Finding;

use crate::scanner::{FileInput, FileReport, Scanner, Skipped, Warning};

/// Counters that a progress display reads while a scan runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Files searched so far.
    pub files: AtomicU64,
    /// Bytes read so far.
    pub bytes: AtomicU64,
    /// Findings so far, before the baseline.
    pub findings: AtomicU64,
}

/// How to walk folders.
#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Ignore `.gitignore`, `.ignore` and git exclude files.
    pub no_ignore: bool,
    /// Follow symbolic links; loops are reported as warnings.
    pub follow_symlinks: bool,
    /// Walker threads; 0 picks the number of CPUs.
    pub threads: usize,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            no_ignore: false,
            follow_symlinks: true,
            threads: 0,
        }
    }
}

/// Everything a scan produced.
#[derive(Debug, Default)]
pub struct ScanOutcome {
    /// Findings, ordered by file, line and column.
    pub findings: Vec<Finding>,
    /// Inputs that could not be fully read.
    pub warnings: Vec<Warning>,
    /// Files not searched.
    pub skipped: Vec<Skipped>,
    /// Files searched (archive members count once, with their archive).
    pub files: u64,
    /// Bytes read.
    pub bytes: u64,
}

impl ScanOutcome {
    fn absorb(&mut self, report: FileReport) {
        self.findings.extend(report.findings);
        self.warnings.extend(report.warnings);
        self.skipped.extend(report.skipped);
    }

    /// Orders findings by file, line and column, and warnings by path.
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            (&a.file, a.line, a.column, &a.rule_id).cmp(&(&b.file, b.line, b.column, &b.rule_id))
        });
        self.warnings.sort_by(|a, b| a.path.cmp(&b.path));
        self.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    }
}

/// Scans files and folders in parallel.
pub fn scan_paths(
    scanner: &Scanner,
    roots: &[PathBuf],
    options: &WalkOptions,
    progress: &Progress,
) -> ScanOutcome {
    let outcome = Mutex::new(ScanOutcome::default());
    for root in roots {
        match std::fs::metadata(root) {
            Ok(meta) if meta.is_dir() => walk_folder(scanner, root, options, progress, &outcome),
            Ok(_) => {
                let rel = root
                    .file_name()
                    .map_or_else(|| root.to_string_lossy(), |n| n.to_string_lossy())
                    .into_owned();
                let report = scan_one(scanner, root, root, &rel, progress);
                lock(&outcome).absorb(report);
            }
            Err(err) => lock(&outcome).warnings.push(Warning {
                path: root.display().to_string(),
                message: format!("cannot read: {err}"),
            }),
        }
    }
    let mut outcome = outcome
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    outcome.files = progress.files.load(Ordering::Relaxed);
    outcome.bytes = progress.bytes.load(Ordering::Relaxed);
    outcome.sort();
    outcome
}

fn lock(outcome: &Mutex<ScanOutcome>) -> std::sync::MutexGuard<'_, ScanOutcome> {
    outcome
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn walk_folder(
    scanner: &Scanner,
    root: &Path,
    options: &WalkOptions,
    progress: &Progress,
    outcome: &Mutex<ScanOutcome>,
) {
    let use_ignore = !options.no_ignore;
    let walker = WalkBuilder::new(root)
        .hidden(false)
        .git_ignore(use_ignore)
        .git_global(use_ignore)
        .git_exclude(use_ignore)
        .ignore(use_ignore)
        .parents(use_ignore)
        .require_git(false)
        .follow_links(options.follow_symlinks)
        .threads(options.threads)
        .filter_entry(|entry| entry.file_name() != ".git")
        .build_parallel();
    walker.run(|| {
        Box::new(move |entry| {
            let entry = match entry {
                Ok(entry) => entry,
                Err(err) => {
                    lock(outcome).warnings.push(Warning {
                        path: error_path(&err, root),
                        message: err.to_string(),
                    });
                    return WalkState::Continue;
                }
            };
            if !entry.file_type().is_some_and(|t| t.is_file()) {
                return WalkState::Continue;
            }
            let path = entry.path();
            let rel = relative(path, root);
            let report = scan_one(scanner, path, root, &rel, progress);
            if !report.findings.is_empty()
                || !report.warnings.is_empty()
                || !report.skipped.is_empty()
            {
                lock(outcome).absorb(report);
            }
            WalkState::Continue
        })
    });
}

/// Reads and scans one file, never more than the size limit.
fn scan_one(
    scanner: &Scanner,
    path: &Path,
    root: &Path,
    rel: &str,
    progress: &Progress,
) -> FileReport {
    let mut report = FileReport::default();
    let display = path.to_string_lossy().into_owned();
    if path.to_str().is_none() {
        report.warnings.push(Warning {
            path: display.clone(),
            message: "file name is not valid UTF-8; reported with replacement characters"
                .to_string(),
        });
    }
    if scanner.path_allowed(rel) {
        return report;
    }
    let limit = scanner.options().max_file_size;
    let bytes = match read_limited(path, limit) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            report.warnings.push(Warning {
                path: display,
                message: format!("skipped: larger than the size limit of {limit} bytes (raise it with --max-file-size)"),
            });
            return report;
        }
        Err(err) => {
            report.warnings.push(Warning {
                path: display,
                message: format!("cannot read: {err}"),
            });
            return report;
        }
    };
    progress.files.fetch_add(1, Ordering::Relaxed);
    progress
        .bytes
        .fetch_add(bytes.len() as u64, Ordering::Relaxed);
    let input = FileInput {
        display_path: &display,
        rel_path: rel,
        bytes: &bytes,
        git: None,
    };
    scanner.scan_file(&input, &mut report);
    if !report.findings.is_empty() {
        let project = project_name(path, root);
        for finding in &mut report.findings {
            finding.rpa.project.get_or_insert_with(|| project.clone());
        }
        progress
            .findings
            .fetch_add(report.findings.len() as u64, Ordering::Relaxed);
    }
    report
}

/// Reads a file, returning `None` without reading it when it is over `limit` bytes.
fn read_limited(path: &Path, limit: u64) -> std::io::Result<Option<Vec<u8>>> {
    let file = File::open(path)?;
    let len = file.metadata()?.len();
    if len > limit {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Ok(None);
    }
    Ok(Some(bytes))
}

/// Returns `path` relative to `root` with `/` separators, or the file name when
/// `root` is the file itself.
fn relative(path: &Path, root: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        return path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
    }
    parts.join("/")
}

/// Returns the project a file belongs to: the nearest folder (up to the scan root)
/// holding a UiPath `project.json`, else the file's folder, else the root's name.
pub fn project_name(path: &Path, root: &Path) -> String {
    let mut dir = path.parent();
    while let Some(current) = dir {
        if current.join("project.json").is_file() {
            return folder_name(current);
        }
        if current == root || !current.starts_with(root) {
            break;
        }
        dir = current.parent();
    }
    match path.parent() {
        Some(parent) if parent.starts_with(root) && parent != root => folder_name(parent),
        _ => folder_name(root),
    }
}

fn folder_name(path: &Path) -> String {
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    canonical
        .file_name()
        .map_or_else(|| "root".to_string(), |n| n.to_string_lossy().into_owned())
}

fn error_path(err: &ignore::Error, root: &Path) -> String {
    match err {
        ignore::Error::WithPath { path, .. } => path.display().to_string(),
        ignore::Error::Loop { child, .. } => child.display().to_string(),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err, root)
        }
        _ => root.display().to_string(),
    }
}
