//! E-mail syntax check and normalization.
//!
//! Accepts the practical syntax that the widely used validators accept
//! (Python's `email-validator` with deliverability checks off): a dot-atom
//! local part of RFC 5322 `atext` (plus UTF-8 letters), no quoted local
//! parts, no comments, no IP-literal domains, and a domain of at least two
//! labels under a real-looking top-level domain. Mail servers compare domains
//! case-insensitively but may treat the local part's case as significant, so
//! only the domain is lower-cased.

/// The address is not acceptable e-mail syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid e-mail address")]
pub struct InvalidEmail;

/// Longest local part, in octets (RFC 5321 §4.5.3.1.1).
const MAX_LOCAL: usize = 64;
/// Longest address, in octets (RFC 5321's 256-octet path minus the brackets).
const MAX_TOTAL: usize = 254;
/// Longest domain, in octets.
const MAX_DOMAIN: usize = 253;
/// Longest domain label, in octets.
const MAX_LABEL: usize = 63;

/// Special-use names (RFC 6761 and friends) that never receive mail;
/// `email-validator` rejects them too.
const SPECIAL_USE: &[&str] = &["arpa", "invalid", "local", "localhost", "onion", "test"];

/// Normalizes an e-mail: trims it and lowercases the domain. Empty stays empty.
pub fn normalize(raw: &str) -> Result<String, InvalidEmail> {
    let t = trim(raw);
    if t.is_empty() {
        return Ok(String::new());
    }
    if t.len() > MAX_TOTAL {
        return Err(InvalidEmail);
    }
    let (local, domain) = t.split_once('@').ok_or(InvalidEmail)?;
    check_local(local)?;
    // One allocation for the usual ASCII domain; `to_lowercase` for the rest.
    let mut out = String::with_capacity(t.len());
    out.push_str(local);
    out.push('@');
    if domain.is_ascii() {
        out.push_str(domain);
        out[local.len() + 1..].make_ascii_lowercase();
    } else {
        out.push_str(&domain.to_lowercase());
    }
    check_domain(&out[local.len() + 1..])?;
    if out.len() > MAX_TOTAL {
        return Err(InvalidEmail);
    }
    Ok(out)
}

/// Trims white space and invisible marks. A cell that starts and ends with
/// a visible ASCII character (nearly every one) is returned as it is,
/// without the char-by-char scan: ASCII white space is a space or `\t`..
/// `\r`, and the marks are not ASCII.
fn trim(raw: &str) -> &str {
    if let (Some(&a), Some(&z)) = (raw.as_bytes().first(), raw.as_bytes().last())
        && a.is_ascii()
        && z.is_ascii()
        && !matches!(a, b' ' | b'\t'..=b'\r')
        && !matches!(z, b' ' | b'\t'..=b'\r')
    {
        return raw;
    }
    raw.trim_matches(|c: char| c.is_whitespace() || is_invisible(c))
}

/// Zero-width and direction marks that copy-paste brings along.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')
}

/// Non-ASCII characters allowed in either part (SMTPUTF8): anything visible.
fn is_utf8_ok(c: char) -> bool {
    !c.is_ascii() && !c.is_whitespace() && !c.is_control() && !is_invisible(c)
}

/// RFC 5322 `atext`.
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '!' | '#'
                | '$'
                | '%'
                | '&'
                | '\''
                | '*'
                | '+'
                | '-'
                | '/'
                | '='
                | '?'
                | '^'
                | '_'
                | '`'
                | '{'
                | '|'
                | '}'
                | '~'
        )
        || is_utf8_ok(c)
}

fn check_local(local: &str) -> Result<(), InvalidEmail> {
    if local.is_empty() || local.len() > MAX_LOCAL {
        return Err(InvalidEmail);
    }
    // Dot-atom: atoms of atext joined by single dots, so no empty atom.
    if local.is_ascii() {
        // The same rule by bytes for the usual ASCII local part: no dot
        // first, last or doubled, and every other byte atext.
        // One pass, no substring search (its set-up cost more than the
        // check on these short strings).
        let b = local.as_bytes();
        let mut prev = b'.';
        for &c in b {
            let ok = if c == b'.' {
                prev != b'.'
            } else {
                is_atext(char::from(c))
            };
            if !ok {
                return Err(InvalidEmail);
            }
            prev = c;
        }
        return if prev == b'.' {
            Err(InvalidEmail)
        } else {
            Ok(())
        };
    }
    if local
        .split('.')
        .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
    {
        Ok(())
    } else {
        Err(InvalidEmail)
    }
}

fn check_domain(domain: &str) -> Result<(), InvalidEmail> {
    if domain.is_empty() || domain.len() > MAX_DOMAIN || domain.starts_with('[') {
        return Err(InvalidEmail);
    }
    let Some((_, tld)) = domain.rsplit_once('.') else {
        return Err(InvalidEmail);
    };
    for label in domain.split('.') {
        check_label(label)?;
    }
    if tld.is_ascii() {
        // A TLD is never numeric; email-validator wants it to end in a letter.
        if !tld.ends_with(|c: char| c.is_ascii_alphabetic()) {
            return Err(InvalidEmail);
        }
    }
    if SPECIAL_USE.iter().any(|s| {
        domain
            .strip_suffix(s)
            .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
    }) {
        return Err(InvalidEmail);
    }
    Ok(())
}

fn check_label(label: &str) -> Result<(), InvalidEmail> {
    if label.is_empty() || label.len() > MAX_LABEL {
        return Err(InvalidEmail);
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(InvalidEmail);
    }
    if !label
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || (is_utf8_ok(c) && c.is_alphanumeric()))
    {
        return Err(InvalidEmail);
    }
    // IDNA reserves "??--" for encodings; only Punycode's "xn--" is real.
    let b = label.as_bytes();
    if b.len() >= 4 && &b[2..4] == b"--" && !label.starts_with("xn--") {
        return Err(InvalidEmail);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_practical_addresses() {
        for (raw, want) in [
            ("user@example.com", "user@example.com"),
            ("  User.Name@Example.COM \u{a0}", "User.Name@example.com"),
            (
                "first.last+tag@sub.domain.co.uk",
                "first.last+tag@sub.domain.co.uk",
            ),
            ("o'brien@example.ie", "o'brien@example.ie"),
            (
                "a!#$%&'*+-/=?^_`{|}~z@example.org",
                "a!#$%&'*+-/=?^_`{|}~z@example.org",
            ),
            ("x@a-b.io", "x@a-b.io"),
            ("1234@123.example.com", "1234@123.example.com"),
            ("josé@correo.es", "josé@correo.es"),
            ("пользователь@пример.рф", "пользователь@пример.рф"),
            ("user@Bücher.DE", "user@bücher.de"),
            ("user@xn--bcher-kva.de", "user@xn--bcher-kva.de"),
            ("", ""),
            ("   ", ""),
            ("\x0Buser@example.com\x0C", "user@example.com"),
            ("\u{200B}user@example.com\u{FEFF}", "user@example.com"),
            ("o.b-r_i+e~n@example.com", "o.b-r_i+e~n@example.com"),
        ] {
            assert_eq!(normalize(raw).as_deref(), Ok(want), "{raw:?}");
        }
    }

    #[test]
    fn rejects_bad_syntax() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_label = format!("a@{}.com", "b".repeat(64));
        let long_total = format!("a@{}.com", vec!["c".repeat(60); 5].join("."));
        for raw in [
            "plainaddress",
            "@example.com",
            "user@",
            "user@@example.com",
            "a@b@example.com",
            "user@localhost",
            "user@example",
            ".user@example.com",
            "user.@example.com",
            "us..er@example.com",
            "josé..x@example.com",
            "user.@ejemplo.es",
            "us\ter@example.com",
            "\"quoted\"@example.com",
            "us er@example.com",
            "user(comment)@example.com",
            "user@[192.168.0.1]",
            "user@[IPv6:2001:db8::1]",
            "user@192.168.0.1",
            "user@example.123",
            "user@example.c0m1",
            "user@-example.com",
            "user@example-.com",
            "user@exa_mple.com",
            "user@example..com",
            "user@.example.com",
            "user@example.com.",
            "user@ab--cd.com",
            "user@host.local",
            "user@site.test",
            "Name <user@example.com>",
            "user@exa mple.com",
            "user,name@example.com",
            long_local.as_str(),
            long_label.as_str(),
            long_total.as_str(),
        ] {
            assert_eq!(normalize(raw), Err(InvalidEmail), "{raw:?}");
        }
    }

    #[test]
    fn length_limits_are_inclusive() {
        let local64 = format!("{}@example.com", "a".repeat(64));
        assert!(normalize(&local64).is_ok());
        let label63 = format!("a@{}.com", "b".repeat(63));
        assert!(normalize(&label63).is_ok());
    }
}
