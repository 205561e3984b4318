//! Parsers that turn activity logs into [`Event`]s.
//!
//! A file is read whole (up to [`MAX_DECOMPRESSED_BYTES`]), gunzipped when its
//! first two bytes are the gzip magic `1f 8b` whatever its name says, and then
//! split into records: the `Records` array of a CloudTrail file, the `value`
//! array of an OData response, the elements of a top-level array, one JSON
//! object per line, or one CSV row. Each record becomes an event or a
//! [`ParseError`] with its line number, so one bad record never loses the rest.

mod cloudtrail;
mod csv_log;
mod document;
mod entra;
mod fields;
mod k8s;
mod ocsf;
mod uipath;

use std::fmt;
use std::io::Read;
use std::str::FromStr;

use serde_json::Value;
use ward_core::event::Event;

pub use csv_log::CsvMapping;
pub use document::Records;

/// Largest decompressed file accepted, in bytes (512 MiB).
pub const MAX_DECOMPRESSED_BYTES: u64 = 512 * 1024 * 1024;

/// Log formats Ward can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// AWS CloudTrail: `{"Records":[…]}` files, plain or gzipped, or JSON lines.
    CloudTrail,
    /// Microsoft Entra service-principal and managed-identity sign-in logs.
    EntraSignin,
    /// Kubernetes `audit.k8s.io/v1` events, also wrapped by AKS or GKE.
    K8sAudit,
    /// UiPath Orchestrator audit-log and robot-log records.
    UipathOrchestrator,
    /// OCSF API Activity, Authentication and Entity Management events.
    Ocsf,
    /// CSV with a header row and a [`CsvMapping`].
    Csv,
    /// Ward's own [`Event`] JSON, one per line.
    Ward,
}

impl Format {
    /// Names accepted by [`Format::from_str`].
    pub const NAMES: [&'static str; 7] = [
        "cloudtrail",
        "entra-signin",
        "k8s-audit",
        "uipath-orchestrator",
        "ocsf",
        "csv",
        "ward",
    ];

    /// The name used on the command line and in `source` fields.
    pub fn name(self) -> &'static str {
        match self {
            Format::CloudTrail => "cloudtrail",
            Format::EntraSignin => "entra-signin",
            Format::K8sAudit => "k8s-audit",
            Format::UipathOrchestrator => "uipath-orchestrator",
            Format::Ocsf => "ocsf",
            Format::Csv => "csv",
            Format::Ward => "ward",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown format name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown log format `{0}`: expected one of cloudtrail, entra-signin, k8s-audit, uipath-orchestrator, ocsf, csv, ward"
)]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.to_ascii_lowercase().as_str() {
            "cloudtrail" | "aws-cloudtrail" => Ok(Format::CloudTrail),
            "entra-signin" | "entra" | "azure-signin" => Ok(Format::EntraSignin),
            "k8s-audit" | "kubernetes-audit" | "k8s" => Ok(Format::K8sAudit),
            "uipath-orchestrator" | "uipath" => Ok(Format::UipathOrchestrator),
            "ocsf" => Ok(Format::Ocsf),
            "csv" => Ok(Format::Csv),
            "ward" => Ok(Format::Ward),
            _ => Err(UnknownFormat(value.to_string())),
        }
    }
}

/// A record that could not be turned into an event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct ParseError {
    /// 1-based line where the record starts.
    pub line: usize,
    /// What is wrong with the record.
    pub reason: String,
}

/// A failure that stops a whole file from being read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The gzip stream ends early.
    #[error("truncated gzip: the compressed stream ends before its trailer")]
    TruncatedGzip,
    /// The gzip stream is corrupt.
    #[error("invalid gzip data: {0}")]
    InvalidGzip(std::io::Error),
    /// The file is larger than [`MAX_DECOMPRESSED_BYTES`].
    #[error("file is larger than {MAX_DECOMPRESSED_BYTES} bytes after decompression; split it")]
    TooLarge,
    /// Reading failed.
    #[error("failed to read: {0}")]
    Io(#[from] std::io::Error),
    /// CSV input came without a column mapping.
    #[error("csv input needs a column mapping (time, identity and operation columns)")]
    MissingCsvMapping,
}

/// What a file turned out to contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content {
    /// Activity records.
    Events,
    /// A CloudTrail digest file: integrity data, no events.
    CloudTrailDigest,
}

/// Settings shared by every file of one ingestion run.
#[derive(Debug, Clone)]
pub struct Parser {
    format: Format,
    csv: Option<CsvMapping>,
}

impl Parser {
    /// A parser for `format`; CSV also needs [`Parser::with_csv_mapping`].
    pub fn new(format: Format) -> Self {
        Parser { format, csv: None }
    }

    /// Sets the CSV column mapping.
    pub fn with_csv_mapping(mut self, mapping: CsvMapping) -> Self {
        self.csv = Some(mapping);
        self
    }

    /// The format this parser reads.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Reads `reader` to the end, gunzipping it if it starts with the gzip magic.
    pub fn read_all(reader: impl Read) -> Result<Vec<u8>, FileError> {
        let mut raw = Vec::new();
        reader
            .take(MAX_DECOMPRESSED_BYTES + 1)
            .read_to_end(&mut raw)?;
        if raw.len() as u64 > MAX_DECOMPRESSED_BYTES {
            return Err(FileError::TooLarge);
        }
        decompress(raw)
    }

    /// Splits `bytes` (already gunzipped by [`Parser::read_all`]) into records.
    pub fn records<'a>(&'a self, bytes: &'a [u8]) -> Result<(Content, Records<'a>), FileError> {
        if self.format == Format::Csv {
            let mapping = self.csv.as_ref().ok_or(FileError::MissingCsvMapping)?;
            return Ok((Content::Events, Records::csv(mapping, bytes)));
        }
        let records = Records::json(self.format, bytes);
        let content = if records.is_cloudtrail_digest() {
            Content::CloudTrailDigest
        } else {
            Content::Events
        };
        Ok((content, records))
    }

    /// Reads and parses a whole source: a convenience over [`Parser::read_all`]
    /// and [`Parser::records`].
    pub fn parse_reader(
        &self,
        reader: impl Read,
    ) -> Result<(Content, Vec<Result<Event, ParseError>>), FileError> {
        let bytes = Self::read_all(reader)?;
        let (content, records) = self.records(&bytes)?;
        Ok((content, records.collect()))
    }
}

/// Maps one JSON record of `format` to an event.
pub(crate) fn event_from_json(format: Format, value: &Value) -> Result<Event, String> {
    match format {
        Format::CloudTrail => cloudtrail::event(value),
        Format::EntraSignin => entra::event(value),
        Format::K8sAudit => k8s::event(value),
        Format::UipathOrchestrator => uipath::event(value),
        Format::Ocsf => ocsf::event(value),
        Format::Ward => serde_json::from_value(value.clone())
            .map_err(|err| format!("invalid ward event: {err}")),
        Format::Csv => Err("csv rows are not JSON".to_string()),
    }
}

fn decompress(raw: Vec<u8>) -> Result<Vec<u8>, FileError> {
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    let decoder = flate2::read::MultiGzDecoder::new(raw.as_slice());
    let mut out = Vec::new();
    match decoder
        .take(MAX_DECOMPRESSED_BYTES + 1)
        .read_to_end(&mut out)
    {
        Ok(_) if out.len() as u64 > MAX_DECOMPRESSED_BYTES => Err(FileError::TooLarge),
        Ok(_) => Ok(out),
        Err(err) if err.kind() == std::io::ErrorKind::UnexpectedEof => {
            Err(FileError::TruncatedGzip)
        }
        Err(err) => Err(FileError::InvalidGzip(err)),
    }
}
