//! Scanning git history: every blob reachable from any ref is read once
//! (deduplicated by blob id) and each secret is reported at the commit, author
//! date and path where it first appeared.
//!
//! History is read through the `git` command (`git log --raw` for the blob list,
//! one `git cat-file --batch` process for content), so `git` must be on `PATH`.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, sync_channel};
use std::sync::{Arc, Mutex};

use ward_core::finding::GitOrigin;

use crate::error::ScanError;
use crate::scanner::{FileInput, FileReport, Scanner, Warning};
use crate::walk::{Progress, ScanOutcome};

/// A blob to scan: where it first appeared, in log order.
#[derive(Debug, Clone)]
struct BlobRef {
    seq: usize,
    blob: String,
    path: String,
    origin: GitOrigin,
}

struct Blob {
    meta: BlobRef,
    bytes: Vec<u8>,
}

/// Scans the history of the repository at `repo` with `threads` scanning threads.
pub fn scan_history(
    scanner: &Scanner,
    repo: &Path,
    threads: usize,
    progress: &Progress,
) -> Result<ScanOutcome, ScanError> {
    let blobs = list_blobs(repo)?;
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        threads
    };

    let (sender, receiver) = sync_channel::<Blob>(threads * 4);
    let receiver = Arc::new(Mutex::new(receiver));
    let results = Mutex::new(Vec::<(usize, FileReport)>::new());
    let mut outcome = ScanOutcome::default();
    let reader_result = std::thread::scope(|scope| {
        for _ in 0..threads {
            let receiver = Arc::clone(&receiver);
            let results = &results;
            scope.spawn(move || scan_worker(scanner, &receiver, results, progress));
        }
        let result = read_blobs(repo, &blobs, scanner.options().max_file_size, |blob| {
            sender.send(blob).is_ok()
        });
        drop(sender);
        result
    });

    let skipped_large = reader_result?;
    for meta in skipped_large {
        outcome.warnings.push(Warning {
            path: format!("{}@{}", meta.path, short(&meta.origin.commit)),
            message: format!("skipped: blob {} is over the size limit", meta.blob),
        });
    }

    let mut results = results
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    results.sort_by_key(|(seq, _)| *seq);
    let mut seen = HashSet::new();
    for (_, report) in results {
        for finding in report.findings {
            if seen.insert(finding.fingerprint.clone()) {
                outcome.findings.push(finding);
            }
        }
        outcome.warnings.extend(report.warnings);
        outcome.skipped.extend(report.skipped);
    }

    outcome.files = progress.files.load(Ordering::Relaxed);
    outcome.bytes = progress.bytes.load(Ordering::Relaxed);
    outcome.sort();
    Ok(outcome)
}

fn scan_worker(
    scanner: &Scanner,
    receiver: &Mutex<Receiver<Blob>>,
    results: &Mutex<Vec<(usize, FileReport)>>,
    progress: &Progress,
) {
    loop {
        let blob = {
            let guard = receiver
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            guard.recv()
        };
        let Ok(blob) = blob else { return };
        progress.files.fetch_add(1, Ordering::Relaxed);
        progress
            .bytes
            .fetch_add(blob.bytes.len() as u64, Ordering::Relaxed);
        let mut report = FileReport::default();
        let display = blob.meta.path.clone();
        let input = FileInput {
            display_path: &display,
            rel_path: &blob.meta.path,
            bytes: &blob.bytes,
            git: Some(&blob.meta.origin),
        };
        scanner.scan_file(&input, &mut report);
        if report.findings.is_empty() && report.warnings.is_empty() && report.skipped.is_empty() {
            continue;
        }
        let project = project_of(&blob.meta.path);
        for finding in &mut report.findings {
            finding.rpa.project.get_or_insert_with(|| project.clone());
        }
        progress
            .findings
            .fetch_add(report.findings.len() as u64, Ordering::Relaxed);
        results
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((blob.meta.seq, report));
    }
}

fn project_of(path: &str) -> String {
    let mut parts: Vec<&str> = path.split('/').collect();
    parts.pop();
    parts
        .last()
        .map_or_else(|| "repository".to_string(), |p| (*p).to_string())
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}

fn git_error(repo: &Path, message: impl Into<String>) -> ScanError {
    ScanError::Git {
        repo: repo.display().to_string(),
        message: message.into(),
    }
}

/// Lists each blob once, at its first appearance in `git log --all --reverse` order.
fn list_blobs(repo: &Path) -> Result<Vec<BlobRef>, ScanError> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        // NOTE: without `-m`, merge commits list no blobs, so content that only a
        // conflict resolution introduced is not scanned.
        .args([
            "log",
            "--all",
            "--reverse",
            "--topo-order",
            "--no-renames",
            "--raw",
            "--no-abbrev",
            "-z",
            "--format=%x01%H %aI",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| {
            git_error(
                repo,
                format!("cannot run git: {err}; install git or put it on PATH"),
            )
        })?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| git_error(repo, "git log has no output pipe"))?;
    let mut blobs = Vec::new();
    let mut seen = HashSet::new();
    let mut origin: Option<GitOrigin> = None;
    let mut pending: Option<String> = None;
    for token in BufReader::new(stdout).split(0) {
        let token =
            token.map_err(|err| git_error(repo, format!("reading git log failed: {err}")))?;
        let token = String::from_utf8_lossy(&token);
        let token = token.trim_start_matches('\n');
        if let Some(blob) = pending.take() {
            if let Some(origin) = &origin
                && seen.insert(blob.clone())
            {
                blobs.push(BlobRef {
                    seq: blobs.len(),
                    blob,
                    path: token.to_string(),
                    origin: origin.clone(),
                });
            }
            continue;
        }
        if let Some(header) = token.strip_prefix('\u{1}') {
            let (commit, date) = header.split_once(' ').unwrap_or((header, ""));
            origin = Some(GitOrigin {
                commit: commit.to_string(),
                author_date: date.trim().to_string(),
            });
        } else if let Some(meta) = token.strip_prefix(':') {
            // `:<old mode> <new mode> <old id> <new id> <status>`; the path follows.
            let fields: Vec<&str> = meta.split(' ').collect();
            let new_mode = fields.get(1).copied().unwrap_or("");
            let new_id = fields.get(3).copied().unwrap_or("");
            let is_blob = new_mode.starts_with("100") || new_mode == "120000";
            if is_blob && !new_id.chars().all(|c| c == '0') {
                pending = Some(new_id.to_string());
            } else {
                pending = Some(String::new());
            }
        }
    }
    blobs.retain(|b| !b.blob.is_empty());
    finish(child, repo, "git log")?;
    Ok(blobs)
}

fn finish(mut child: Child, repo: &Path, what: &str) -> Result<(), ScanError> {
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    let status = child
        .wait()
        .map_err(|err| git_error(repo, format!("{what} failed: {err}")))?;
    if !status.success() {
        return Err(git_error(
            repo,
            format!("{what} exited with {status}: {}", stderr.trim()),
        ));
    }
    Ok(())
}

/// Streams blob contents through one `git cat-file --batch`, handing each to `deliver`.
/// Returns the blobs skipped for size.
fn read_blobs(
    repo: &Path,
    blobs: &[BlobRef],
    limit: u64,
    mut deliver: impl FnMut(Blob) -> bool,
) -> Result<Vec<BlobRef>, ScanError> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| git_error(repo, format!("cannot run git cat-file: {err}")))?;
    let stdin = child
        .stdin
        .take()
        .ok_or_else(|| git_error(repo, "git cat-file has no input pipe"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| git_error(repo, "git cat-file has no output pipe"))?;
    let ids: Vec<String> = blobs.iter().map(|b| b.blob.clone()).collect();
    // Requests are written from their own thread so that neither pipe can fill up
    // while the other side waits.
    let writer = std::thread::spawn(move || write_requests(stdin, &ids));
    let skipped =
        read_responses(stdout, blobs, limit, &mut deliver).map_err(|err| git_error(repo, err));
    let _ = writer.join();
    finish(child, repo, "git cat-file")?;
    skipped
}

fn write_requests(stdin: ChildStdin, ids: &[String]) -> std::io::Result<()> {
    let mut stdin = BufWriter::new(stdin);
    for id in ids {
        writeln!(stdin, "{id}")?;
    }
    stdin.flush()
}

fn read_responses(
    stdout: ChildStdout,
    blobs: &[BlobRef],
    limit: u64,
    deliver: &mut impl FnMut(Blob) -> bool,
) -> Result<Vec<BlobRef>, String> {
    let mut reader = BufReader::new(stdout);
    let mut skipped = Vec::new();
    let by_id: HashMap<&str, &BlobRef> = blobs.iter().map(|b| (b.blob.as_str(), b)).collect();
    let mut header = String::new();
    for _ in 0..blobs.len() {
        header.clear();
        if reader
            .read_line(&mut header)
            .map_err(|e| format!("reading git cat-file failed: {e}"))?
            == 0
        {
            return Err("git cat-file stopped early".to_string());
        }
        let fields: Vec<&str> = header.split_whitespace().collect();
        let (Some(id), Some(kind)) = (fields.first(), fields.get(1)) else {
            continue;
        };
        if *kind == "missing" {
            continue;
        }
        let size: u64 = fields.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
        let meta = by_id.get(id).copied();
        if size > limit || meta.is_none() {
            std::io::copy(&mut (&mut reader).take(size + 1), &mut std::io::sink())
                .map_err(|e| e.to_string())?;
            if let Some(meta) = meta {
                skipped.push(meta.clone());
            }
            continue;
        }
        let mut bytes = vec![0u8; usize::try_from(size).unwrap_or(0)];
        reader
            .read_exact(&mut bytes)
            .map_err(|e| format!("reading blob {id} failed: {e}"))?;
        let mut newline = [0u8; 1];
        reader.read_exact(&mut newline).map_err(|e| e.to_string())?;
        if let Some(meta) = meta
            && !deliver(Blob {
                meta: meta.clone(),
                bytes,
            })
        {
            break;
        }
    }
    Ok(skipped)
}
