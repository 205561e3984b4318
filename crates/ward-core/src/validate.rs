//! Input checks shared by the API and the CLI.

/// Maximum length of a bot name, in bytes.
pub const MAX_NAME_LEN: usize = 64;
/// Maximum length of a purpose or reason, in characters.
pub const MAX_TEXT_LEN: usize = 500;

/// Checks a bot name: 3 to 64 characters of a-z, 0-9, `-`, `_` and `.`,
/// starting with a letter, so it can appear in paths and AppRole role names.
pub fn check_bot_name(name: &str) -> Result<(), String> {
    if name.len() < 3 || name.len() > MAX_NAME_LEN {
        return Err(format!(
            "must be 3 to {MAX_NAME_LEN} characters long, got {}",
            name.len()
        ));
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err("must start with a lowercase letter".to_string());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "contains `{bad}`: use lowercase letters, digits, `-`, `_` and `.`"
        ));
    }
    // Bots are found by id or name, so a name shaped like an id would make
    // lookups ambiguous or impossible.
    if let Some(kind) = crate::id::kind_of(name) {
        return Err(format!(
            "has the form of a {kind} id; choose a name without an id prefix"
        ));
    }
    Ok(())
}

/// Checks a one-sentence purpose: not blank, at most 500 characters, one line.
pub fn check_purpose(purpose: &str) -> Result<(), String> {
    let trimmed = purpose.trim();
    if trimmed.len() < 10 {
        return Err(
            "must say in one sentence what the bot does (at least 10 characters)".to_string(),
        );
    }
    if trimmed.chars().count() > MAX_TEXT_LEN {
        return Err(format!("must be at most {MAX_TEXT_LEN} characters"));
    }
    if trimmed.contains('\n') {
        return Err("must be one sentence on one line".to_string());
    }
    if has_sentence_break(trimmed) {
        return Err(
            "must be one sentence: put further detail in the bot's documentation".to_string(),
        );
    }
    Ok(())
}

/// Reports whether `text` holds two sentences: a word of five or more
/// letters ends with `.`, `!` or `?`, and the next word starts with a capital.
/// NOTE: a heuristic. The five-letter minimum lets abbreviations such as
/// "e.g.", "Inc." or "Corp." through, so a break after a short word is missed.
fn has_sentence_break(text: &str) -> bool {
    let words: Vec<&str> = text.split_whitespace().collect();
    words.windows(2).any(|pair| {
        let Some(body) = pair[0].strip_suffix(['.', '!', '?']) else {
            return false;
        };
        let ends_word = body.chars().count() >= 5 && body.chars().all(char::is_alphabetic);
        ends_word && pair[1].starts_with(char::is_uppercase)
    })
}

/// Checks a reason given for a state change: not blank, at most 500 characters.
pub fn check_reason(reason: &str) -> Result<(), String> {
    let trimmed = reason.trim();
    if trimmed.is_empty() {
        return Err("must not be empty: say why".to_string());
    }
    if trimmed.chars().count() > MAX_TEXT_LEN {
        return Err(format!("must be at most {MAX_TEXT_LEN} characters"));
    }
    Ok(())
}

/// Checks an email address loosely: one `@`, a dot in the domain, no spaces.
pub fn check_email(email: &str) -> Result<(), String> {
    let Some((local, domain)) = email.split_once('@') else {
        return Err(format!(
            "`{email}` is not an email address: expected name@domain"
        ));
    };
    let valid = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.contains(char::is_whitespace)
        && !domain.contains('@')
        && email.len() <= 254;
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{email}` is not an email address: expected name@domain"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bot_names() {
        assert!(check_bot_name("invoice-bot-01").is_ok());
        assert!(check_bot_name("ab").is_err());
        assert!(check_bot_name("Invoice").is_err());
        assert!(check_bot_name("1bot").is_err());
        assert!(check_bot_name("bot/x").is_err());
        let id = crate::id::BotId::generate().to_string();
        assert!(check_bot_name(&id).is_err());
        assert!(check_bot_name("bot_ledger").is_ok());
    }

    #[test]
    fn purposes() {
        assert!(check_purpose("Posts supplier invoices into SAP.").is_ok());
        assert!(check_purpose("Copies files to the ERP, e.g. SAP, every night.").is_ok());
        assert!(check_purpose("Posts invoices for Acme Corp. Every night.").is_ok());
        assert!(check_purpose("Posts invoices. Then it emails the team.").is_err());
        assert!(check_purpose("Does things").is_ok());
        assert!(check_purpose("short").is_err());
        assert!(check_purpose("Posts invoices\ninto SAP.").is_err());
    }

    #[test]
    fn emails() {
        assert!(check_email("ana@example.com").is_ok());
        for bad in ["ana", "ana@", "@x.com", "a b@x.com", "a@x", "a@.com"] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }
}
