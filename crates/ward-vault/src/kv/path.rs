//! Validation of key paths inside the mount.

use crate::error::{Result, VaultError};

/// Checks a key path: not empty, no leading or trailing `/`, no empty, `.`
/// or `..` segments.
pub fn check_path(path: &str) -> Result<()> {
    let invalid = |reason| {
        Err(VaultError::InvalidPath {
            path: path.to_string(),
            reason,
        })
    };
    if path.is_empty() {
        return invalid("missing path");
    }
    if path.starts_with('/') || path.ends_with('/') {
        return invalid("a key must not start or end with `/`");
    }
    for segment in path.split('/') {
        if segment.is_empty() {
            return invalid("the path has an empty segment");
        }
        if matches!(segment, "." | "..") {
            return invalid("relative paths not supported");
        }
    }
    if path.chars().any(char::is_control) {
        return invalid("the path contains a control character");
    }
    Ok(())
}

/// Normalises a folder for listing: empty for the mount root, otherwise
/// with exactly one trailing `/`.
pub(crate) fn folder_prefix(folder: &str) -> Result<String> {
    let trimmed = folder.trim_end_matches('/');
    if trimmed.is_empty() {
        return Ok(String::new());
    }
    check_path(trimmed)?;
    Ok(format!("{trimmed}/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_nested_paths() {
        assert!(check_path("bots/invoice").is_ok());
        assert!(check_path("a").is_ok());
    }

    #[test]
    fn rejects_bad_paths() {
        for bad in ["", "/a", "a/", "a//b", "a/./b", "a/../b", "a/\nb"] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn folder_prefix_normalises() {
        assert_eq!(folder_prefix("").unwrap(), "");
        assert_eq!(folder_prefix("/").unwrap(), "");
        assert_eq!(folder_prefix("apps").unwrap(), "apps/");
        assert_eq!(folder_prefix("apps/").unwrap(), "apps/");
        assert!(folder_prefix("a/../b").is_err());
    }
}
