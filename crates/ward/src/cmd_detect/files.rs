//! Reading log files into events, with per-file and per-record error counts.

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use ward_core::event::Event;
use ward_detect::parse::{Content, Parser};

/// Malformed records listed in the summary; the rest are only counted.
const MAX_LISTED_ERRORS: usize = 20;

/// Expands folders into the files under them, sorted by path.
pub fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        collect(path, &mut files).with_context(|| format!("failed to read {}", path.display()))?;
    }
    Ok(files)
}

fn collect(path: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if !path.is_dir() {
        files.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for entry in entries {
        collect(&entry, files)?;
    }
    Ok(())
}

/// Counts over all files of one run.
#[derive(Debug, Default)]
pub struct Summary {
    pub files: usize,
    pub files_failed: Vec<(PathBuf, String)>,
    pub digest_files: usize,
    pub events: u64,
    pub malformed: u64,
    pub listed: Vec<String>,
}

impl Summary {
    pub fn malformed(&mut self, file: &Path, line: usize, reason: &str) {
        self.malformed += 1;
        if self.listed.len() < MAX_LISTED_ERRORS {
            self.listed
                .push(format!("{}:{line}: {reason}", file.display()));
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for line in &self.listed {
            writeln!(f, "malformed: {line}")?;
        }
        if self.malformed as usize > self.listed.len() {
            writeln!(
                f,
                "malformed: … and {} more",
                self.malformed as usize - self.listed.len()
            )?;
        }
        for (file, reason) in &self.files_failed {
            writeln!(f, "failed: {}: {reason}", file.display())?;
        }
        write!(
            f,
            "files: {} read, {} failed, {} digest files skipped; events: {} parsed, {} malformed",
            self.files,
            self.files_failed.len(),
            self.digest_files,
            self.events,
            self.malformed
        )
    }
}

/// A parsed event with the file line it came from.
pub struct Located {
    pub event: Event,
    pub file: usize,
    pub line: usize,
}

/// Parses one file, passing each event to `sink`; records file failures and
/// malformed records in `summary`.
pub fn parse_file(
    parser: &Parser,
    index: usize,
    path: &Path,
    summary: &mut Summary,
    sink: &mut dyn FnMut(Located) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    summary.files += 1;
    let bytes = match std::fs::File::open(path)
        .map_err(ward_detect::parse::FileError::from)
        .and_then(Parser::read_all)
    {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::warn!(file = %path.display(), error = %err, "failed to read log file");
            summary
                .files_failed
                .push((path.to_path_buf(), err.to_string()));
            return Ok(());
        }
    };
    let (content, records) = match parser.records(&bytes) {
        Ok(found) => found,
        Err(err) => {
            summary
                .files_failed
                .push((path.to_path_buf(), err.to_string()));
            return Ok(());
        }
    };
    if content == Content::CloudTrailDigest {
        summary.digest_files += 1;
        eprintln!("{}: digest file, no events", path.display());
        return Ok(());
    }
    let mut records = records;
    while let Some((line, record)) = records.next_numbered() {
        match record {
            Ok(event) => {
                summary.events += 1;
                sink(Located {
                    event,
                    file: index,
                    line,
                })?;
            }
            Err(err) => summary.malformed(path, err.line, &err.reason),
        }
    }
    Ok(())
}
