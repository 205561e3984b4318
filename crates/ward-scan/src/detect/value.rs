//! Judging candidate values: placeholders, code references, entropy and confidence.

use ward_core::finding::Confidence;

/// Whole values that stand for "put the real secret here".
const PLACEHOLDERS: &[&str] = &[
    "changeme",
    "change_me",
    "change-me",
    "password",
    "passwd",
    "pass",
    "secret",
    "token",
    "example",
    "dummy",
    "placeholder",
    "redacted",
    "replace_me",
    "replaceme",
    "todo",
    "tbd",
    "none",
    "null",
    "nil",
    "undefined",
    "true",
    "false",
    "yes",
    "no",
    "string",
    "required",
    "optional",
    "empty",
    "default",
    "test",
    "testing",
    "sample",
    "your_password",
    "yourpassword",
    "your_token",
    "your_api_key",
    "mypassword",
    "my_password",
    "secure",
    "securestring",
    "notset",
    "not_set",
    "unset",
    "value",
    "x:null",
    "hidden",
    "masked",
];

/// Returns the Shannon entropy of `value` in bits per character.
pub fn shannon_entropy(value: &str) -> f64 {
    let mut counts = std::collections::HashMap::<char, usize>::new();
    let mut total = 0usize;
    for c in value.chars() {
        *counts.entry(c).or_default() += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    let total = total as f64;
    counts
        .values()
        .map(|&n| {
            let p = n as f64 / total;
            -p * p.log2()
        })
        .sum()
}

/// Returns true when `value` is a template, variable reference, mask or stock placeholder
/// rather than a secret: `${VAR}`, `{{ x }}`, `%VAR%`, `$env:X`, `<password>`, `changeme`,
/// `xxxx`, `****`, `{x:Null}` and the like.
pub fn is_placeholder(value: &str) -> bool {
    let v = value.trim().trim_matches(['"', '\'']);
    if v.is_empty() {
        return true;
    }

    // One character making up most of the value: `aaaa…end`, `0000…aa`.
    let total = v.chars().count();
    if total >= 8 {
        let mut counts = std::collections::HashMap::<char, usize>::new();
        for c in v.chars() {
            *counts.entry(c).or_default() += 1;
        }
        if counts.values().any(|n| n * 10 >= total * 8) {
            return true;
        }
    }

    let lower = v.to_ascii_lowercase();
    if PLACEHOLDERS.contains(&lower.as_str()) {
        return true;
    }

    let starts = |p: &str| v.starts_with(p);
    // An XML character or entity reference left in raw markup (`&#xD;`, `&quot;`).
    if starts("&")
        && (v.contains(';')
            || starts("&#")
            || ["&amp", "&quot", "&lt", "&gt", "&apos"]
                .iter()
                .any(|e| starts(e)))
    {
        return true;
    }

    if starts("${") || starts("{{") || starts("#{") || starts("$(") || starts("%(") || starts("<%")
    {
        return true;
    }

    if (starts("%") && v.ends_with('%') && v.len() > 2) || (starts("<") && v.ends_with('>')) {
        return true;
    }

    if (starts("{") && v.ends_with('}')) || (starts("[") && v.ends_with(']')) {
        return true;
    }

    if starts("$")
        && v[1..]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '{' || c == '}')
    {
        return true;
    }

    // A single repeated character (`xxxx`, `****`, `....`) or a run of x's with separators.
    let mut chars = lower.chars().filter(|c| !matches!(c, '-' | '_' | ' '));
    if let Some(first) = chars.next()
        && chars.all(|c| c == first)
    {
        return true;
    }

    const MARKERS: &[&str] = &[
        "xxx",
        "****",
        "your_",
        "your-",
        "example",
        "sample",
        "dummy",
        "placeholder",
        "redacted",
        "hidden_due",
        "changeme",
    ];
    if MARKERS.iter().any(|m| lower.contains(m)) {
        return true;
    }

    // A shell or Make variable expansion at the start: `$REACT_APP_BASE_URL/path`.
    let expansion = v.len() > 3
        && v.starts_with('$')
        && v[1..]
            .chars()
            .take(3)
            .all(|c| c.is_ascii_uppercase() || c == '_');
    if expansion {
        return true;
    }

    if lower.starts_with("env:") || lower.starts_with("env.") || lower.starts_with("vault:") {
        return true;
    }

    false
}

/// Returns true when an unquoted value is a reference to code or configuration, not a
/// literal: `config.password`, `os.getenv(..)`, `args[0]`, `process.env.X`, `sPW`.
pub fn is_code_reference(value: &str) -> bool {
    let v = value.trim();
    if v.contains('(') || v.contains('[') {
        return true;
    }
    let is_ident = |s: &str| {
        !s.is_empty()
            && s.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() > 1 && parts.iter().all(|p| is_ident(p))
}

/// Returns true when a value reads as prose, a path, a resource name or a code
/// fragment, not a credential.
pub fn is_prose_or_path(value: &str) -> bool {
    let v = value.trim();
    if v.split_whitespace().count() >= 3 {
        return true;
    }
    // Fragments of string concatenation or selectors: `+new Buffer(`, `.$p[`, `#add-password`.
    if v.starts_with([',', ';', '+', '.', '#', ':']) || v.ends_with(['(', '+']) {
        return true;
    }
    if v.starts_with("arn:") {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    lower.starts_with("http://")
        || lower.starts_with("https://")
        || lower.starts_with("file:")
        || lower.starts_with('/')
        || lower.starts_with("\\\\")
        || (v.len() > 2 && v.as_bytes()[1] == b':' && v.as_bytes()[2] == b'\\')
}

/// Scores a value found under a credential name.
///
/// High: at least 8 characters from three or more character classes.
/// Medium: at least 6 characters from two or more classes, or entropy of 3 bits or more.
/// Low: anything else that passed the placeholder filters, such as `demo`.
pub fn generic_confidence(value: &str) -> Confidence {
    let len = value.chars().count();
    let classes = [
        value.chars().any(|c| c.is_ascii_lowercase()),
        value.chars().any(|c| c.is_ascii_uppercase()),
        value.chars().any(|c| c.is_ascii_digit()),
        value.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if len >= 8 && classes >= 3 {
        Confidence::High
    } else if (len >= 6 && classes >= 2) || shannon_entropy(value) >= 3.0 {
        Confidence::Medium
    } else {
        Confidence::Low
    }
}

/// Returns true when a value under a credential name is worth reporting at all.
pub fn is_plausible_secret(value: &str, min_len: usize) -> bool {
    let v = value.trim();
    v.chars().count() >= min_len && !is_placeholder(v) && !is_prose_or_path(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_detected() {
        for v in [
            "${DB_PASSWORD}",
            "<password>",
            "changeme",
            "xxxx",
            "********",
            "{{ vault.pw }}",
            "&#xD",
            "&quot;",
            "%PASSWORD%",
            "$env:PW",
            "{x:Null}",
            "'$PRECOMPILE_PASSWORD'",
            "aaaaaaaaaaaaaaaaaaaaaaaaaend",
            "HIDDEN_DUE_TO_SECURITY_REASONS",
            "SampleSessionToken",
            "4exxx",
            "$REACT_APP_URL/forgot",
            "[sPW]",
            "$password",
            "",
            "YOUR_TOKEN_HERE",
        ] {
            assert!(is_placeholder(v), "{v:?} should be a placeholder");
        }
    }

    #[test]
    fn real_values_not_placeholders() {
        for v in [
            "Fake!Passw0rd-2024",
            "DonpzisH6",
            "demo",
            "Kgnrmcl6",
            "q8Zr2mXw7Lp4",
        ] {
            assert!(!is_placeholder(v), "{v:?} should not be a placeholder");
        }
    }

    #[test]
    fn code_references_detected() {
        assert!(is_code_reference("config.password"));
        assert!(is_code_reference("os.getenv(\"PW\")"));
        assert!(!is_code_reference("Fake!Passw0rd-2024"));
        assert!(!is_code_reference("p4ss.w0rd!"));
    }

    #[test]
    fn confidence_levels() {
        assert_eq!(generic_confidence("Fake!Passw0rd-2024"), Confidence::High);
        assert_eq!(generic_confidence("DonpzisH6"), Confidence::High);
        assert_eq!(generic_confidence("demo"), Confidence::Low);
        assert_eq!(generic_confidence("hunter22"), Confidence::Medium);
    }

    #[test]
    fn entropy_of_uniform_string() {
        assert!((shannon_entropy("abcd") - 2.0).abs() < 1e-9);
        assert_eq!(shannon_entropy(""), 0.0);
    }
}
