//! Text safe to print: credentials in URLs redacted, arguments quoted for display. The one
//! redactor and the one quoting rule of the tool.

use std::borrow::Cow;

/// Replaces the password of every `scheme://user:password@host` in `text` with `****`
/// (and a lone user name, often a token: `scheme://token@host`, entirely).
pub(crate) fn redact(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut redacted = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find("://") {
        let (before, after) = rest.split_at(index + 3);
        redacted.push_str(before);
        let authority_end = after
            .find(|character: char| {
                matches!(character, '/' | '?' | '#' | '"' | '\'' | '`' | '<' | '>')
                    || character.is_whitespace()
            })
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                let user_info = &authority[..at];
                match user_info.split_once(':') {
                    Some((user, _)) => {
                        redacted.push_str(user);
                        redacted.push_str(":****");
                    }
                    None => redacted.push_str("****"),
                }
                redacted.push_str(&authority[at..]);
            }
            None => redacted.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    redacted.push_str(rest);
    Cow::Owned(redacted)
}

/// `argument` as a POSIX shell would need it written to read it back as one word. For
/// display only: commands never go through a shell.
pub(crate) fn quote(argument: &str) -> Cow<'_, str> {
    let plain = !argument.is_empty()
        && argument
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "-_./:=@,+%".contains(character));
    if plain {
        Cow::Borrowed(argument)
    } else {
        Cow::Owned(format!("'{}'", argument.replace('\'', r"'\''")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_and_tokens() {
        assert_eq!(
            redact("--index-url=https://user:s3cret@example.com/simple x"),
            "--index-url=https://user:****@example.com/simple x"
        );
        assert_eq!(
            redact("see https://tok:en@a/b and http://TOKEN@b.example/"),
            "see https://tok:****@a/b and http://****@b.example/"
        );
        assert_eq!(redact("http://host:8080/simple"), "http://host:8080/simple");
        assert_eq!(redact("no url"), "no url");
        assert_eq!(redact("https://u:p@"), "https://u:****@");
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote("flask==1.0"), "flask==1.0");
        assert_eq!(quote("flask>=1.0"), "'flask>=1.0'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}
