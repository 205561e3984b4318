//! Detectors for secrets that have no fixed format: values assigned to credential
//! names, connection-string passwords, URL user information and literal passwords
//! handed to .NET or PowerShell credential constructors.

use regex::Regex;
use ward_core::finding::{Confidence, RpaContext};

use super::names::is_secret_name;
use super::value::{generic_confidence, is_code_reference, is_plausible_secret};
use super::{Candidate, Priority};

/// Rule ids of the generic detectors.
pub const GENERIC_PASSWORD: &str = "generic-password";
/// See [`GENERIC_PASSWORD`].
pub const CONNECTION_STRING_PASSWORD: &str = "connection-string-password";
/// See [`GENERIC_PASSWORD`].
pub const URL_CREDENTIALS: &str = "url-credentials";
/// See [`GENERIC_PASSWORD`].
pub const CREDENTIAL_CONSTRUCTOR: &str = "credential-constructor-literal";
/// See [`GENERIC_PASSWORD`].
pub const COMMAND_LINE_PASSWORD: &str = "command-line-password";
/// See [`GENERIC_PASSWORD`]; the same id as the XML reader's key/value rule.
pub const KEY_VALUE_ATTRIBUTES: &str = "xml-credential-value";
/// See [`GENERIC_PASSWORD`].
pub const NETRC_PASSWORD: &str = "netrc-password";

/// Lower-case words of which one must occur in the text for the assignment detector to run.
pub const ASSIGNMENT_KEYWORDS: &[&str] = &[
    "pass", "pwd", "pw", "secret", "token", "key", "auth", "cred", "api", "pat",
];

/// Minimum length of a generic value; `demo`, a real lab password, has 4 characters.
const MIN_GENERIC_LEN: usize = 4;

/// Key markers that precede a connection-string or JDBC password in the same line.
const CONNECTION_MARKERS: &[&str] = &[
    "server=",
    "data source=",
    "jdbc:",
    "driver=",
    "host=",
    "initial catalog=",
    "database=",
    "dsn=",
    "uid=",
    "user id=",
];

/// The compiled generic detectors.
#[derive(Debug)]
pub struct GenericDetector {
    assignment: Regex,
    url: Regex,
    constructor: Regex,
    command_line: Regex,
    key_value: Regex,
    netrc: Regex,
}

impl Default for GenericDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl GenericDetector {
    /// Compiles the detectors.
    #[expect(
        clippy::expect_used,
        reason = "the patterns are constants covered by unit tests"
    )]
    pub fn new() -> GenericDetector {
        // A key containing a credential keyword (so that the engine can skip to the
        // keyword), an optional closing quote, an operator, then a quoted or bare value.
        // A lone `key`, as in `<add key="..." value="..."/>`, names no credential and
        // is left out so that such lines do not each cost a capture search.
        let assignment = Regex::new(
            r#"(?P<key>[A-Za-z0-9_.\-:$@]{0,60}(?:(?i:pass|pwd|pw|secret|token|auth|cred|api|pat)|[A-Za-z0-9_.\-]key|[Kk]ey[_\-A-Z]|KEY)[A-Za-z0-9_.\-:]{0,60})(?P<kq>["']?)[ \t]*(?P<op>===|!==|==|!=|:=|=>|<-|=|:)(?P<ws>[ \t]*)(?:"(?P<dq>(?:[^"\\\r\n]|\\.){1,400})"|'(?P<sq>[^'\r\n]{1,400})'|(?P<bare>[^\s"'<>;,\)\]\}\\]{1,400}))"#,
        )
        .expect("assignment regex compiles");
        let url = Regex::new(
            r#"(?i)\b[a-z][a-z0-9+.\-]{1,20}://(?P<user>[^:/?#\s"'<>@]{1,64}):(?P<pass>[^@/?#\s"'<>]{1,128})@[A-Za-z0-9.\-_\[\]]+"#,
        )
        .expect("url regex compiles");
        let constructor = Regex::new(
            r#"(?i)(?:NetworkCredential\(\s*(?:(?:"|&quot;)[^"&\r\n]*(?:"|&quot;)|[A-Za-z_][\w.]*)\s*,\s*(?:"|&quot;)(?P<nc>[^"&\r\n]+)(?:"|&quot;)|ConvertTo-SecureString\s+(?:-String\s+)?["'](?P<ps>[^"'\r\n]+)["']\s+-AsPlainText|DirectoryEntry\(\s*"[^"\r\n]*"\s*,\s*"[^"\r\n]*"\s*,\s*"(?P<de>[^"\r\n]+)")"#,
        )
        .expect("constructor regex compiles");
        // PsExec and sshpass `-p VALUE`, `net use \\share VALUE /user:`, and
        // long options named like credentials followed by a space and a value.
        let command_line = Regex::new(
            r#"(?i)(?:\b(?:psexec(?:64)?(?:\.exe)?|sshpass)\b[^\r\n]*?\s-p\s+|\bnet\s+use\s+\S+\s+|\s--?(?P<flag>[a-z][a-z0-9-]*(?:password|passwd|token|secret|api-key|apikey)[a-z0-9-]*)\s+)(?:"(?P<dq>[^"\r\n]+)"|'(?P<sq>[^'\r\n]+)'|(?P<bare>[^\s"'\-/][^\s"']*))"#,
        )
        .expect("command-line regex compiles");
        let key_value = Regex::new(
            r#"(?i)\b(?:key|name)\s*=\s*"(?P<name>[^"\r\n]{0,60}(?:pass|pwd|pw|secret|token|key|auth|cred|api|pat)[^"\r\n]{0,60})"\s+value\s*=\s*"(?P<value>[^"\r\n]{1,400})""#,
        )
        .expect("key/value regex compiles");
        let netrc = Regex::new(
            r"(?m)^\s*(?:machine\s+\S+\s+)?(?:login\s+\S+\s+)?password\s+(?P<value>\S+)",
        )
        .expect("netrc regex compiles");
        GenericDetector {
            assignment,
            url,
            constructor,
            command_line,
            key_value,
            netrc,
        }
    }

    /// Appends candidates found in `text`; `run_assignments` is false when no keyword occurs.
    pub fn scan(&self, text: &str, run_assignments: bool, out: &mut Vec<Candidate>) {
        if run_assignments {
            self.scan_assignments(text, out);
            self.scan_constructors(text, out);
            self.scan_command_lines(text, out);
            self.scan_key_values(text, out);
            if text.contains("machine") && text.contains("login") {
                self.scan_netrc(text, out);
            }
        }
        if text.contains("://") {
            self.scan_urls(text, out);
        }
    }

    fn scan_assignments(&self, text: &str, out: &mut Vec<Candidate>) {
        let mut pos = 0;
        while let Some(caps) = self.assignment.captures_at(text, pos) {
            let (Some(whole), Some(key)) = (caps.get(0), caps.name("key")) else {
                break;
            };
            // Restart just after the key so that a value holding its own `k=v` pairs
            // (a connection string) is searched again.
            pos = key.end().max(whole.start() + 1);
            if !is_secret_name(key.as_str()) {
                continue;
            }
            let (value, quoted) = match (caps.name("dq"), caps.name("sq"), caps.name("bare")) {
                (Some(v), _, _) | (_, Some(v), _) => (v, true),
                (_, _, Some(v)) => (v, false),
                _ => continue,
            };
            // `service:Action` inside one string (an IAM action) is no assignment: a bare
            // colon needs a quoted key or whitespace after it, as in JSON and YAML.
            let bare_colon = caps.name("op").is_some_and(|op| op.as_str() == ":")
                && caps.name("kq").is_some_and(|q| q.as_str().is_empty())
                && caps.name("ws").is_some_and(|w| w.as_str().is_empty());
            if bare_colon && !quoted {
                continue;
            }
            let mut secret = value.as_str();
            if !quoted {
                secret = secret.trim_end_matches(['.', ',']);
                if is_code_reference(secret) {
                    continue;
                }
            }
            if !is_plausible_secret(secret, MIN_GENERIC_LEN) || secret.starts_with("-----BEGIN") {
                continue;
            }
            let line = line_around(text, whole.start());
            let rule = if is_connection_line(line) {
                CONNECTION_STRING_PASSWORD
            } else {
                GENERIC_PASSWORD
            };
            out.push(Candidate::span(
                rule,
                value.start(),
                value.start() + secret.len(),
                secret,
                generic_confidence(secret),
                Priority::Generic,
                RpaContext {
                    argument: Some(clean_key(key.as_str())),
                    ..RpaContext::default()
                },
            ));
        }
    }

    fn scan_urls(&self, text: &str, out: &mut Vec<Candidate>) {
        for caps in self.url.captures_iter(text) {
            let Some(pass) = caps.name("pass") else {
                continue;
            };
            if !is_plausible_secret(pass.as_str(), 3) || pass.as_str().starts_with('$') {
                continue;
            }
            out.push(Candidate::span(
                URL_CREDENTIALS,
                pass.start(),
                pass.end(),
                pass.as_str(),
                generic_confidence(pass.as_str()).max(Confidence::Medium),
                Priority::Structured,
                RpaContext {
                    argument: caps.name("user").map(|u| u.as_str().to_string()),
                    ..RpaContext::default()
                },
            ));
        }
    }

    fn scan_constructors(&self, text: &str, out: &mut Vec<Candidate>) {
        for caps in self.constructor.captures_iter(text) {
            let Some(value) = caps
                .name("nc")
                .or_else(|| caps.name("ps"))
                .or_else(|| caps.name("de"))
            else {
                continue;
            };
            if !is_plausible_secret(value.as_str(), MIN_GENERIC_LEN) {
                continue;
            }
            out.push(Candidate::span(
                CREDENTIAL_CONSTRUCTOR,
                value.start(),
                value.end(),
                value.as_str(),
                generic_confidence(value.as_str()).raised(),
                Priority::Structured,
                RpaContext::default(),
            ));
        }
    }
}

impl GenericDetector {
    fn scan_command_lines(&self, text: &str, out: &mut Vec<Candidate>) {
        for caps in self.command_line.captures_iter(text) {
            let Some(value) = caps
                .name("dq")
                .or_else(|| caps.name("sq"))
                .or_else(|| caps.name("bare"))
            else {
                continue;
            };
            let secret = value.as_str();
            if !is_plausible_secret(secret, MIN_GENERIC_LEN)
                || secret.starts_with('$')
                || secret.starts_with('%')
            {
                continue;
            }
            let flag = caps.name("flag").map(|f| f.as_str().to_string());
            out.push(Candidate::span(
                COMMAND_LINE_PASSWORD,
                value.start(),
                value.end(),
                secret,
                generic_confidence(secret),
                Priority::Generic,
                RpaContext {
                    argument: flag,
                    ..RpaContext::default()
                },
            ));
        }
    }

    fn scan_key_values(&self, text: &str, out: &mut Vec<Candidate>) {
        for caps in self.key_value.captures_iter(text) {
            let (Some(name), Some(value)) = (caps.name("name"), caps.name("value")) else {
                continue;
            };
            if !is_secret_name(name.as_str())
                || !is_plausible_secret(value.as_str(), MIN_GENERIC_LEN)
            {
                continue;
            }
            out.push(Candidate::span(
                KEY_VALUE_ATTRIBUTES,
                value.start(),
                value.end(),
                value.as_str(),
                generic_confidence(value.as_str()),
                Priority::Generic,
                RpaContext {
                    argument: Some(name.as_str().to_string()),
                    ..RpaContext::default()
                },
            ));
        }
    }

    fn scan_netrc(&self, text: &str, out: &mut Vec<Candidate>) {
        for caps in self.netrc.captures_iter(text) {
            let Some(value) = caps.name("value") else {
                continue;
            };
            if !is_plausible_secret(value.as_str(), MIN_GENERIC_LEN) {
                continue;
            }
            out.push(Candidate::span(
                NETRC_PASSWORD,
                value.start(),
                value.end(),
                value.as_str(),
                generic_confidence(value.as_str()),
                Priority::Generic,
                RpaContext::default(),
            ));
        }
    }
}

/// Strips sigils and quotes from a key: `$password` -> `password`.
fn clean_key(key: &str) -> String {
    key.trim_start_matches(['$', '@'])
        .trim_matches(['"', '\''])
        .to_string()
}

/// Returns the line of `text` that contains byte `offset`.
pub fn line_around(text: &str, offset: usize) -> &str {
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    &text[start..end]
}

fn is_connection_line(line: &str) -> bool {
    let lower = line.to_ascii_lowercase();
    CONNECTION_MARKERS.iter().any(|m| lower.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secrets(text: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        GenericDetector::new().scan(text, true, &mut out);
        out.into_iter()
            .map(|c| (c.rule_id.to_string(), c.secret))
            .collect()
    }

    #[test]
    fn connection_string_passwords() {
        let found = secrets(
            r#"var a = "Server=tcp:db01,1433;Database=P;User ID=svc;Password=Fake!Passw0rd-2024;Encrypt=True;";"#,
        );
        assert_eq!(
            found,
            vec![(
                CONNECTION_STRING_PASSWORD.to_string(),
                "Fake!Passw0rd-2024".to_string()
            )]
        );
        assert_eq!(
            secrets("Driver={ODBC};Server=db;Uid=svc;Pwd=Fake#Pwd-7731;")[0].1,
            "Fake#Pwd-7731"
        );
        assert!(secrets("Server=db;User ID=svc;Password=;").is_empty());
        assert!(secrets("Server=db;Integrated Security=SSPI;").is_empty());
    }

    #[test]
    fn assignments_in_scripts() {
        assert_eq!(
            secrets(r#"$password = "Fake-Utf16-Pa55!""#)[0].1,
            "Fake-Utf16-Pa55!"
        );
        assert_eq!(
            secrets(r#""ServicePassword"="Fake-Reg-Pw-42""#)[0].1,
            "Fake-Reg-Pw-42"
        );
        assert!(secrets("password = config.password").is_empty());
        assert!(secrets("password: ${DB_PASSWORD}").is_empty());
        assert!(secrets(r#"PublicKeyToken=b77a5c561934e089"#).is_empty());
        assert!(
            secrets(r#""Action": ["secretsmanager:GetSecretValue", "kms:Decrypt"]"#).is_empty()
        );
        assert_eq!(
            secrets(r#"{"password":"Json-Tight-Pw1"}"#)[0].1,
            "Json-Tight-Pw1"
        );
        assert_eq!(secrets("db_password: Yaml-Pw-22")[0].1, "Yaml-Pw-22");
    }

    #[test]
    fn url_user_info() {
        let found = secrets("DATABASE_URL=postgres://svc:S3cretPw9@db.example.invalid/app");
        assert!(found.contains(&(URL_CREDENTIALS.to_string(), "S3cretPw9".to_string())));
        assert!(
            secrets("https://user:${PW}@host")
                .iter()
                .all(|(r, _)| r != URL_CREDENTIALS)
        );
    }

    #[test]
    fn comparisons_and_command_lines() {
        assert_eq!(
            secrets(r#"if username == "jojoba" and password == "team10":"#)[0].1,
            "team10"
        );
        assert_eq!(
            secrets(r"psexec \\10.0.94.120 -u Administrator -p dev_admin CMD")[0].1,
            "dev_admin"
        );
        assert_eq!(
            secrets(r"net use \\fs01\rpa Share-Pw-31 /user:CORP\svc_rpa")[0].1,
            "Share-Pw-31"
        );
        assert_eq!(
            secrets("kubeadm join --tls-bootstrap-token abcdef.1234567890abcdef")[0].1,
            "abcdef.1234567890abcdef"
        );
        assert!(secrets("docker login --password-stdin --username bot").is_empty());
        assert!(secrets("psexec \\\\host -u User -p $Password -i").is_empty());
    }

    #[test]
    fn key_value_attributes_and_netrc() {
        let found = secrets(r#"<add key="FromEmailPassword" value="Prestigitariu$"/>"#);
        assert_eq!(
            found,
            vec![(
                KEY_VALUE_ATTRIBUTES.to_string(),
                "Prestigitariu$".to_string()
            )]
        );
        let found = secrets("machine api.github.com login ziggy password 012345abcdef");
        assert_eq!(found[0].1, "012345abcdef");
    }

    #[test]
    fn credential_constructors() {
        let found = secrets(
            r#"[New System.Net.NetworkCredential(&quot;&quot;, &quot;Xaml-Pw-99&quot;).SecurePassword]"#,
        );
        assert_eq!(found[0].1, "Xaml-Pw-99");
        let found = secrets(r#"$pw = ConvertTo-SecureString "Ps-Plain-77" -AsPlainText -Force"#);
        assert!(found.iter().any(|(_, s)| s == "Ps-Plain-77"));
        let found = secrets(
            r#"New-Object DirectoryServices.DirectoryEntry("LDAP://10.10.10.1", "domain\user", "Ldap-Bind-4")"#,
        );
        assert!(found.iter().any(|(_, s)| s == "Ldap-Bind-4"));
    }
}
