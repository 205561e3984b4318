//! Parsers that turn activity logs into [`Event`]s.
//!
//! A file is read whole (up to [`MAX_DECOMPRESSED_BYTES`]), gunzipped when its
//! first two bytes are the gzip magic `1f 8b` whatever the file name, and then
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
    /// Reason the record was rejected.
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

/// Kind of content found in a file.
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
    /// Creates a parser for `format`. CSV also needs [`Parser::with_csv_mapping`].
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

#[cfg(test)]
mod tests {
    use ward_core::event::{EventClass, FailureClass, IdentityKind, Status};

    use super::*;

    fn parse(parser: &Parser, text: &str) -> Vec<Result<Event, ParseError>> {
        let bytes = Parser::read_all(text.as_bytes()).unwrap();
        let (content, records) = parser.records(&bytes).unwrap();
        assert_eq!(content, Content::Events);
        records.collect()
    }

    #[test]
    fn format_names_round_trip() {
        for name in Format::NAMES {
            assert_eq!(name.parse::<Format>().unwrap().name(), name);
        }
        assert!("syslog".parse::<Format>().is_err());
    }

    #[test]
    fn csv_with_mapping() {
        let mapping: CsvMapping =
            "time=When,identity=Who,operation=Action,service=System,status=Result,src_ip=Ip"
                .parse()
                .unwrap();
        let parser = Parser::new(Format::Csv).with_csv_mapping(mapping);
        let text = "When,Who,Action,System,Result,Ip\n\
                    2024-05-01T12:00:00Z,bot-a,read,erp,success,10.0.0.1\n\
                    2024-05-01T12:05:00Z,bot-a,read,erp,denied,10.0.0.1\n\
                    not a time,bot-a,read,erp,success,10.0.0.1\n";
        let records = parse(&parser, text);
        assert_eq!(records.len(), 3);
        let first = records[0].as_ref().unwrap();
        assert_eq!(first.actor.uid, "bot-a");
        assert_eq!(first.service, "erp");
        assert_eq!(first.status, Status::Success);
        let second = records[1].as_ref().unwrap();
        assert_eq!(second.failure, Some(FailureClass::PermissionDenied));
        let error = records[2].as_ref().unwrap_err();
        assert_eq!(error.line, 4);
        assert!(error.reason.contains("`not a time`"), "{}", error.reason);
    }

    #[test]
    fn csv_mapping_rejects_unknown_and_missing_fields() {
        assert!("time=a,identity=b".parse::<CsvMapping>().is_err());
        assert!(
            "time=a,identity=b,operation=c,colour=d"
                .parse::<CsvMapping>()
                .is_err()
        );
        let parser = Parser::new(Format::Csv);
        let bytes = b"a,b\n".to_vec();
        assert!(matches!(
            parser.records(&bytes),
            Err(FileError::MissingCsvMapping)
        ));
    }

    #[test]
    fn ocsf_api_activity() {
        let parser = Parser::new(Format::Ocsf);
        let text = r#"{"class_uid":6003,"time":1714564800000,"metadata":{"uid":"o-1","product":{"name":"x"}},"actor":{"user":{"uid":"svc-1","name":"svc one","type":"Service"}},"api":{"operation":"GetObject","service":{"name":"s3"}},"resources":[{"name":"bucket-a"}],"status_id":2,"status_code":"AccessDenied","src_endpoint":{"ip":"10.0.0.2"}}
{"class_uid":4001,"time":1714564800000}"#;
        let records = parse(&parser, text);
        let event = records[0].as_ref().unwrap();
        assert_eq!(event.uid, "o-1");
        assert_eq!(event.time.unix_timestamp(), 1_714_564_800);
        assert_eq!(event.class, EventClass::ApiActivity);
        assert_eq!(event.actor.kind, IdentityKind::ServicePrincipal);
        assert_eq!(event.resource.as_deref(), Some("bucket-a"));
        assert_eq!(event.failure, Some(FailureClass::PermissionDenied));
        let error = records[1].as_ref().unwrap_err();
        assert!(error.reason.contains("class_uid 4001"), "{}", error.reason);
    }

    #[test]
    fn uipath_odata_wrapper() {
        let parser = Parser::new(Format::UipathOrchestrator);
        let text = r#"{"@odata.context":"x","value":[
            {"ExecutionTime":"2020-03-06T16:43:51.94Z","Action":"Create","Component":"Robots","DisplayName":"r1","UserName":"orch-admin","UserType":"User","Id":6567},
            {"TimeStamp":"2020-03-02T13:45:20.74Z","Level":"Error","RobotName":"WINDOWS","ProcessName":"Main","JobKey":"job-1","Id":67530,"Message":"failed"}
        ]}"#;
        let records = parse(&parser, text);
        let audit = records[0].as_ref().unwrap();
        assert_eq!(audit.operation, "Robots.Create");
        assert_eq!(audit.class, EventClass::EntityManagement);
        let robot = records[1].as_ref().unwrap();
        assert_eq!(robot.actor.kind, IdentityKind::Robot);
        assert_eq!(robot.session_uid.as_deref(), Some("job-1"));
        assert_eq!(robot.failure, Some(FailureClass::Error));
    }

    #[test]
    fn broken_document_keeps_earlier_records() {
        let parser = Parser::new(Format::CloudTrail);
        let record = |id: &str| {
            format!(
                r#"{{"eventTime":"2024-05-01T12:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","eventID":"{id}","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/a","userName":"a"}}}}"#
            )
        };
        let text = format!(
            "{{\"Records\": [\n{},\n{},\n{{\"eventTime\": oops}}\n]}}",
            record("a"),
            record("b")
        );
        let records = parse(&parser, &text);
        assert_eq!(records.len(), 3);
        assert!(records[0].is_ok() && records[1].is_ok());
        let error = records[2].as_ref().unwrap_err();
        assert_eq!(error.line, 4);
        assert!(error.reason.starts_with("invalid JSON"), "{}", error.reason);
    }
}
