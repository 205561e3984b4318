//! Server configuration: flags, then `WARD_*` variables (both read by the
//! `ward` binary with clap), then an optional TOML file, then defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use time::Duration;

/// Every setting of `ward serve`. Each default is safe on a laptop.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Folder holding the database, keys and the TLS certificate.
    pub data_dir: PathBuf,
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// PEM certificate chain; with `tls_key`, replaces the generated one.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Development mode: plain HTTP on loopback and a printed root token.
    pub dev: bool,
    /// Root token to use in development mode instead of a random one.
    #[serde(skip)]
    pub dev_root_token: Option<String>,
    /// Lets `POST /v1/sys/clock` move the server's clock forward (tests only).
    pub test_clock: bool,
    /// Days from registration or certification to the next review.
    pub review_default_days: i64,
    /// Latest review date a bot may be given, in days from now.
    pub review_max_days: i64,
    /// Days a review may stay overdue before the bot is quarantined.
    pub review_grace_days: i64,
    /// Working hours, as `HH:MM-HH:MM` in UTC; workflow changes outside them are flagged.
    pub working_hours: String,
    /// Working days, as a range or list of `mon`..`sun`, such as `mon-fri`.
    pub working_days: String,
    /// Seconds between runs of the lifecycle job.
    pub lifecycle_interval_secs: u64,
    /// Seconds between signed audit checkpoints.
    pub checkpoint_interval_secs: u64,
    /// Lifetime of an operator session, in minutes.
    pub session_ttl_minutes: i64,
    /// Failed sign-ins in a row that lock an operator account.
    pub lockout_threshold: i64,
    /// Minutes an account stays locked.
    pub lockout_minutes: i64,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            data_dir: PathBuf::from("./ward-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            tls_cert: None,
            tls_key: None,
            dev: false,
            dev_root_token: None,
            test_clock: false,
            review_default_days: 90,
            review_max_days: 365,
            review_grace_days: 14,
            working_hours: "07:00-19:00".to_string(),
            working_days: "mon-fri".to_string(),
            lifecycle_interval_secs: 300,
            checkpoint_interval_secs: 60,
            session_ttl_minutes: 480,
            lockout_threshold: 5,
            lockout_minutes: 15,
            max_body_bytes: 16 * 1024 * 1024,
        }
    }
}

/// An invalid configuration value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config file {path}: {source}")]
    Parse {
        path: PathBuf,
        source: toml::de::Error,
    },
    #[error("invalid setting `{field}` = `{value}`: {reason}")]
    Invalid {
        field: &'static str,
        value: String,
        reason: String,
    },
}

impl ServerConfig {
    /// Reads a TOML file into a configuration; missing keys keep their defaults.
    pub fn from_toml_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })
    }

    /// Checks values that serde cannot, such as the working hours and the
    /// development-mode listen address.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.dev && !self.listen.ip().is_loopback() {
            return Err(ConfigError::Invalid {
                field: "listen",
                value: self.listen.to_string(),
                reason:
                    "development mode serves plain HTTP and only listens on loopback; use 127.0.0.1"
                        .into(),
            });
        }
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return Err(ConfigError::Invalid {
                field: "tls_cert",
                value: format!("{:?}", self.tls_cert),
                reason: "give both --tls-cert and --tls-key, or neither".into(),
            });
        }
        self.working_window()?;
        if self.review_default_days <= 0 || self.review_default_days > self.review_max_days {
            return Err(ConfigError::Invalid {
                field: "review_default_days",
                value: self.review_default_days.to_string(),
                reason: format!(
                    "must be between 1 and review_max_days ({})",
                    self.review_max_days
                ),
            });
        }
        if self.lockout_threshold < 1 {
            return Err(ConfigError::Invalid {
                field: "lockout_threshold",
                value: self.lockout_threshold.to_string(),
                reason: "must be at least 1".into(),
            });
        }
        Ok(())
    }

    /// The parsed working window.
    pub fn working_window(&self) -> Result<WorkingWindow, ConfigError> {
        WorkingWindow::parse(&self.working_hours, &self.working_days)
    }

    pub fn session_ttl(&self) -> Duration {
        Duration::minutes(self.session_ttl_minutes)
    }
}

/// Working hours and days, in UTC.
#[derive(Debug, Clone, Copy)]
pub struct WorkingWindow {
    start_minute: u16,
    end_minute: u16,
    /// Bit 0 is Monday.
    days: u8,
}

impl WorkingWindow {
    pub fn parse(hours: &str, days: &str) -> Result<Self, ConfigError> {
        let bad_hours = || ConfigError::Invalid {
            field: "working_hours",
            value: hours.to_string(),
            reason: "expected HH:MM-HH:MM with the start before the end, such as 07:00-19:00"
                .into(),
        };
        let (start, end) = hours.split_once('-').ok_or_else(bad_hours)?;
        let start_minute = parse_hhmm(start).ok_or_else(bad_hours)?;
        let end_minute = parse_hhmm(end).ok_or_else(bad_hours)?;
        if start_minute >= end_minute {
            return Err(bad_hours());
        }
        let days = parse_days(days).ok_or_else(|| ConfigError::Invalid {
            field: "working_days",
            value: days.to_string(),
            reason: "expected a range or comma list of mon, tue, wed, thu, fri, sat, sun, such as mon-fri".into(),
        })?;
        Ok(WorkingWindow {
            start_minute,
            end_minute,
            days,
        })
    }

    /// Reports whether `at` falls inside the window.
    pub fn contains(&self, at: time::OffsetDateTime) -> bool {
        let at = at.to_offset(time::UtcOffset::UTC);
        let day_bit = 1u8 << at.weekday().number_days_from_monday();
        let minute = u16::from(at.hour()) * 60 + u16::from(at.minute());
        self.days & day_bit != 0 && minute >= self.start_minute && minute < self.end_minute
    }
}

fn parse_hhmm(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

fn parse_days(text: &str) -> Option<u8> {
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let index = |name: &str| {
        NAMES
            .iter()
            .position(|n| *n == name.trim().to_ascii_lowercase())
    };
    let mut days = 0u8;
    for part in text.split(',') {
        if let Some((from, to)) = part.split_once('-') {
            let (from, to) = (index(from)?, index(to)?);
            if from > to {
                return None;
            }
            for day in from..=to {
                days |= 1 << day;
            }
        } else {
            days |= 1 << index(part)?;
        }
    }
    (days != 0).then_some(days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn working_window_contains() {
        let window = WorkingWindow::parse("07:00-19:00", "mon-fri").unwrap();
        assert!(window.contains(datetime!(2026-12-02 10:00 UTC)));
        assert!(!window.contains(datetime!(2026-12-02 22:00 UTC)));
        assert!(!window.contains(datetime!(2026-12-05 10:00 UTC)));
    }

    #[test]
    fn bad_working_hours_named() {
        let err = WorkingWindow::parse("19:00-07:00", "mon-fri").unwrap_err();
        assert!(err.to_string().contains("working_hours"));
        let err = WorkingWindow::parse("07:00-19:00", "mon-xyz").unwrap_err();
        assert!(err.to_string().contains("working_days"));
    }

    #[test]
    fn dev_mode_requires_loopback() {
        let config = ServerConfig {
            dev: true,
            listen: "0.0.0.0:8200".parse().unwrap(),
            ..Default::default()
        };
        assert!(
            config
                .validate()
                .unwrap_err()
                .to_string()
                .contains("loopback")
        );
    }
}
