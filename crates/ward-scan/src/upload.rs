//! Sending findings to a Ward server (`POST {url}/v1/findings`), always redacted.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use ward_core::finding::Finding;

use crate::error::ScanError;
use crate::formats::file_name;

/// Name the server records as the finding source.
pub const SCANNER_NAME: &str = "ward-scan";

/// How long one upload may take.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(60);

/// One finding as sent: the redacted finding plus the scanned file's base name.
#[derive(Debug, Serialize)]
pub struct UploadFinding {
    /// The finding, with `secret` removed.
    #[serde(flatten)]
    pub finding: Finding,
    /// Base name of the scanned file (the archive member's own name for members).
    pub file_name: String,
}

/// The request body.
#[derive(Debug, Serialize)]
pub struct UploadBody {
    /// Always `ward-scan`.
    pub scanner: &'static str,
    /// Version of the scanner.
    pub version: &'static str,
    /// Redacted findings.
    pub findings: Vec<UploadFinding>,
}

/// The server's answer.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub struct UploadResponse {
    /// Findings stored.
    pub stored: u64,
    /// Findings linked to a registered bot's workflow.
    pub linked: u64,
}

/// Builds the request body; every secret is removed here, whatever the caller passes.
pub fn body(findings: &[Finding]) -> UploadBody {
    let findings = findings
        .iter()
        .map(|f| {
            let mut finding = f.clone();
            finding.redact();
            UploadFinding {
                file_name: file_name(&f.file).to_string(),
                finding,
            }
        })
        .collect();
    UploadBody {
        scanner: SCANNER_NAME,
        version: env!("CARGO_PKG_VERSION"),
        findings,
    }
}

/// Posts findings to `{base_url}/v1/findings` with a bearer token.
pub fn upload(
    base_url: &str,
    token: &str,
    findings: &[Finding],
) -> Result<UploadResponse, ScanError> {
    let url = format!("{}/v1/findings", base_url.trim_end_matches('/'));
    let shown_url = redact_url(&url);
    let error = |message: String| ScanError::Upload {
        url: shown_url.clone(),
        message,
    };
    let client = reqwest::blocking::Client::builder()
        .timeout(UPLOAD_TIMEOUT)
        .build()
        .map_err(|err| error(format!("cannot build the HTTP client: {err}")))?;
    let response = client
        .post(&url)
        .bearer_auth(token)
        .json(&body(findings))
        .send()
        .map_err(|err| error(format!("request failed: {err}")))?;
    let status = response.status();
    if !status.is_success() {
        let text = response.text().unwrap_or_default();
        let snippet: String = text.chars().take(300).collect();
        let hint = if status.as_u16() == 401 || status.as_u16() == 403 {
            "; check WARD_TOKEN or --token"
        } else {
            ""
        };
        return Err(error(format!("server answered {status}: {snippet}{hint}")));
    }
    response
        .json::<UploadResponse>()
        .map_err(|err| error(format!("unexpected response body: {err}")))
}

/// Removes user information from a URL before it appears in a message.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_user_info_removed() {
        assert_eq!(
            redact_url("https://u:p@ward.example/v1/findings"),
            "https://ward.example/v1/findings"
        );
        assert_eq!(
            redact_url("http://127.0.0.1:8080/v1/findings"),
            "http://127.0.0.1:8080/v1/findings"
        );
    }
}
