//! Judging whether a key, argument or field name denotes a credential.

/// Words that, anywhere in a name, mark it as a credential name.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passwort",
    "passphrase",
    "pwd",
    "pw",
    "pass",
    "secret",
    "secrets",
    "token",
    "apikey",
    "accesskey",
    "privatekey",
    "secretkey",
    "authkey",
    "credential",
    "credentials",
    "pat",
];

/// Words that, before `key`, make `...key` a credential name (`api_key`, `AccessKey`).
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "access",
    "private",
    "secret",
    "auth",
    "signing",
    "encryption",
    "master",
    "account",
    "subscription",
    "shared",
    "license",
    "app",
    "client",
    "storage",
    "service",
];

/// Last words that make a name describe something about a credential, not hold one
/// (`password_field`, `TokenUrl`, `Credential_Name`, `PasswordLength`).
const DESCRIPTIVE_SUFFIXES: &[&str] = &[
    "field",
    "label",
    "prompt",
    "hint",
    "length",
    "len",
    "policy",
    "regex",
    "pattern",
    "type",
    "url",
    "uri",
    "endpoint",
    "file",
    "path",
    "name",
    "enabled",
    "required",
    "count",
    "min",
    "max",
    "timeout",
    "version",
    "format",
    "mode",
    "provider",
    "store",
    "header",
    "placeholder",
    "char",
    "reset",
    "changed",
    "expiry",
    "expires",
    "expiration",
    "visible",
    "selector",
    "id",
    "input",
    "box",
    "text",
    "txt",
    "hash",
    "hashed",
    "salt",
    "method",
    "location",
    "dir",
    "folder",
    "sheet",
    "column",
    "row",
    "index",
    "size",
    "limit",
    "age",
    "date",
    "time",
    "at",
    "strength",
    "manager",
    "service",
    "class",
    "handler",
    "generator",
    "validator",
    "prefix",
    "suffix",
    "exists",
    "check",
    "valid",
    "invalid",
    "error",
    "message",
    "msg",
    "lifetime",
    "ttl",
    "retries",
    "attempts",
    "file",
    "host",
    "port",
    "user",
    "username",
    "login",
    "email",
    "identifier",
    "scope",
    "scopes",
    "usage",
    "kind",
    "source",
    "issuer",
    "audience",
    "claims",
];

/// Words that, anywhere in a name, mark a value that is not a credential: AWS
/// idempotency and pagination tokens, hashes, and services such as `secretsmanager`.
const NON_SECRET_WORDS: &[&str] = &[
    "public",
    "publickeytoken",
    "hash",
    "hashed",
    "client",
    "state",
    "next",
    "page",
    "continuation",
    "pagination",
    "idempotency",
    "csrf",
    "xsrf",
    "unique",
    "secretsmanager",
];

/// Splits a name into lower-case words at `_`, `-`, `.`, spaces, digits and camelCase humps.
pub fn split_words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphabetic() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev_lower = i > 0 && chars[i - 1].is_ascii_lowercase();
        let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
        let prev_upper = i > 0 && chars[i - 1].is_ascii_uppercase();
        // A hump starts at `aB` and at the last capital of `ABc` (`APIKey` -> api, key).
        if c.is_ascii_uppercase()
            && !current.is_empty()
            && (prev_lower || (prev_upper && next_lower))
        {
            words.push(std::mem::take(&mut current));
        }
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Returns true when `name` (a key, argument, attribute, element or cell name) denotes a credential.
///
/// Only the part after the last `.` or `:` counts, so `this:Main.in_Password` and
/// `spring.datasource.password` qualify. Names containing `public`, such as
/// `PublicKeyToken` in .NET assembly names, never do.
pub fn is_secret_name(name: &str) -> bool {
    if name.starts_with("arn:") || name.contains(":arn:") {
        return false;
    }

    let last = name.rsplit(['.', ':']).next().unwrap_or(name);
    let words = split_words(last);
    let Some(last_word) = words.last() else {
        return false;
    };

    // `client` disqualifies only tokens (`clientToken` is an AWS idempotency key),
    // so `client_secret` stays a credential name.
    let disqualified = words
        .iter()
        .any(|w| NON_SECRET_WORDS.contains(&w.as_str()) && (w != "client" || last_word == "token"));
    if disqualified {
        return false;
    }

    if words.len() > 1 && DESCRIPTIVE_SUFFIXES.contains(&last_word.as_str()) {
        return false;
    }

    if words.len() == 1 && (last_word == "api" || last_word == "auth") {
        return true;
    }

    if words.iter().any(|w| SECRET_WORDS.contains(&w.as_str())) {
        return true;
    }

    if words
        .windows(2)
        .any(|pair| pair[1] == "key" && KEY_QUALIFIERS.contains(&pair[0].as_str()))
    {
        return true;
    }

    // One-word names written without humps: `DBPASSWORD`, `apitoken`.
    words.len() == 1
        && ["password", "passwd", "secret", "token", "apikey", "pwd"]
            .iter()
            .any(|w| last_word.contains(w))
        && !last_word.contains("public")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_accepted() {
        for name in [
            "password",
            "Password",
            "in_Password",
            "this:Main.in_Password",
            "sPW",
            "db_pass",
            "OrchestratorApiKey",
            "QueueApiToken",
            "api",
            "client_secret",
            "ServicePassword",
            "$password",
            "AWS_SECRET_ACCESS_KEY",
            "APIKey",
            "DBPASSWORD",
            "Pwd",
            "Txt_Password",
            "clientSecret",
            "client_secret",
            "refreshToken",
        ] {
            assert!(is_secret_name(name), "{name} should be a secret name");
        }
    }

    #[test]
    fn descriptive_names_rejected() {
        for name in [
            "PublicKeyToken",
            "username",
            "Credential_Name",
            "password_field",
            "PasswordLength",
            "key",
            "DisplayName",
            "TokenUrl",
            "IsSecure",
            "public_key",
            "Text",
            "ProviderName",
            "passive",
            "clientToken",
            "hashed_token",
            "token_scopes",
            "uniqueTokenIdentifier",
            "secretsmanager",
            "arn:aws:secretsmanager:us-east-1:1:secret",
            "nextToken",
            "Passenger",
            "api_version",
        ] {
            assert!(!is_secret_name(name), "{name} should not be a secret name");
        }
    }
}
