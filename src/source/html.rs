//! An HTML `<table>` saved as a spreadsheet: Bitrix24's "Export to Excel"
//! writes one (an `.xls` file that is really HTML, which Excel opens with a
//! warning). waport reads its first table: the first row is the header,
//! each later `<tr>` a record, `<br>` inside a cell a line break.
//!
//! The whole file is read into memory (these exports are CRM lists, not
//! million-row dumps); row numbers are the table's rows as Excel shows
//! them, header = 1.

use std::io::Read;

use super::{Fields, Format, Record, Source, SourceError, SourceInfo};

/// Whether `sample` is an HTML document (after a BOM and white space).
pub(super) fn looks_like_html(sample: &[u8]) -> bool {
    let text = sample.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(sample);
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return false;
    };
    let head: Vec<u8> = text[start..text.len().min(start + 512)]
        .iter()
        .map(u8::to_ascii_lowercase)
        .collect();
    [
        "<!doctype html",
        "<html",
        "<table",
        "<meta",
        "<head",
        "<body",
    ]
    .iter()
    .any(|tag| head.starts_with(tag.as_bytes()))
}

/// Whether the HTML in `sample` has a table start.
pub(super) fn has_table(sample: &[u8]) -> bool {
    sample.windows(6).any(|w| w.eq_ignore_ascii_case(b"<table"))
}

/// Reads the first table of the HTML document whose first bytes are
/// `sample` and the rest of which is `rest`.
pub(super) fn open(
    path: &str,
    shown: &str,
    mut sample: Vec<u8>,
    mut rest: Box<dyn Read + Send>,
) -> Result<Source, SourceError> {
    rest.read_to_end(&mut sample)
        .map_err(|e| SourceError::io(shown, e))?;
    let text = decode(&sample);
    let mut rows = parse_table(&text).into_iter();
    let Some(header) = rows.next() else {
        return Err(SourceError::unreadable(
            shown,
            "is an HTML page whose table has no rows: export the list again, or as CSV",
        ));
    };
    let headers = super::finish_headers(header);
    let width = headers.len();
    let records = rows.enumerate().map(move |(i, cells)| {
        let problem = super::ragged(width, cells.len());
        Ok(Record {
            row: i as u64 + 2,
            fields: cells.iter().collect::<Fields>(),
            problem,
        })
    });
    Ok(Source {
        headers,
        info: SourceInfo {
            path: path.to_string(),
            format: Format::Spreadsheet,
            encoding: None,
            delimiter: None,
            sheet: None,
            workbook: Some("html"),
            header_row: 1,
            bom: false,
            crlf: false,
        },
        records: Box::new(records),
    })
}

/// Decodes the document: the `charset` its `<meta>` names, else UTF-8
/// when valid, else windows-1251 (Bitrix24 is a Russian product and older
/// portals wrote their exports in it).
fn decode(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_lowercase();
    let named = head.find("charset=").and_then(|at| {
        let label: String = head[at + 8..]
            .trim_start_matches(['"', '\''])
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        encoding_rs::Encoding::for_label(label.as_bytes())
    });
    let encoding = match named {
        Some(e) => e,
        None if std::str::from_utf8(bytes).is_ok() => encoding_rs::UTF_8,
        None => encoding_rs::WINDOWS_1251,
    };
    encoding.decode_without_bom_handling(bytes).0.into_owned()
}

/// The rows of the first `<table>` (nested tables are read as text of
/// their cell). Rows without cells are dropped.
fn parse_table(html: &str) -> Vec<Vec<String>> {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut row: Option<Vec<String>> = None;
    let mut cell: Option<String> = None;
    let mut depth = 0usize;
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            if let Some(c) = cell.as_mut() {
                c.push_str(&unescape(rest));
            }
            break;
        };
        if let Some(c) = cell.as_mut() {
            c.push_str(&unescape(&rest[..lt]));
        }
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |e| &after[e + 3..]);
            continue;
        }
        let end = rest.find('>').map_or(rest.len(), |e| e + 1);
        let tag = &rest[1..end.saturating_sub(1).max(1)];
        rest = &rest[end..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        match (name.as_str(), closing) {
            ("script" | "style", false) => {
                let close = format!("</{name}");
                let at = rest.to_ascii_lowercase().find(&close);
                rest = at.map_or("", |a| &rest[a..]);
            }
            ("table", false) => {
                depth += 1;
                if depth > 1
                    && let Some(c) = cell.as_mut()
                {
                    c.push(' ');
                }
            }
            ("table", true) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            ("tr", false) if depth == 1 => {
                if let Some(r) = row.take().filter(|r| !r.is_empty()) {
                    rows.push(r);
                }
                row = Some(Vec::new());
            }
            ("tr", true) if depth == 1 => {
                if let (Some(c), Some(r)) = (cell.take(), row.as_mut()) {
                    r.push(c);
                }
                if let Some(r) = row.take().filter(|r| !r.is_empty()) {
                    rows.push(r);
                }
            }
            ("td" | "th", false) if depth == 1 => {
                let r = row.get_or_insert_with(Vec::new);
                if let Some(c) = cell.take() {
                    r.push(c);
                }
                cell = Some(String::new());
            }
            ("td" | "th", true) if depth == 1 => {
                if let Some(c) = cell.take() {
                    row.get_or_insert_with(Vec::new).push(c);
                }
            }
            ("br", _) | ("p", true) | ("div", true) => {
                if let Some(c) = cell.as_mut() {
                    c.push('\n');
                }
            }
            _ => {}
        }
    }
    if let (Some(c), Some(r)) = (cell.take(), row.as_mut()) {
        r.push(c);
    }
    if let Some(r) = row.take().filter(|r| !r.is_empty()) {
        rows.push(r);
    }
    rows.into_iter()
        .map(|r| r.into_iter().map(|c| tidy(&c)).collect())
        .collect()
}

/// Collapses the source's white space the way a browser does, keeping the
/// line breaks `<br>` made.
fn tidy(cell: &str) -> String {
    cell.split('\n')
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Decodes character references (`&amp;`, `&nbsp;`, `&#1055;`, `&#x41F;`).
/// Source line breaks become spaces here: only `<br>` makes a line break.
fn unescape(text: &str) -> String {
    let text = text.replace(['\n', '\r'], " ");
    if !text.contains('&') {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest[1..].find(';').map(|e| e + 1).filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                _ => name
                    .strip_prefix("#x")
                    .or_else(|| name.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            }?;
            Some((c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_first_table_with_entities_and_line_breaks() {
        let html = "<html><head><meta http-equiv=\"Content-type\" content=\"text/html;charset=utf-8\" /></head><body>\
            <table border=\"1\"><tr><th>ID</th><th>Имя</th><th>Мобильный телефон</th></tr>\n\
            <tr><td>1</td><td>Ольга &amp; Co</td><td>+7 900 123-45-67<br>+7 901 765-43-21</td></tr>\
            <tr><td>2</td><td>Иван&nbsp;Петров</td><td></td></tr></table>\
            <table><tr><td>other</td></tr></table></body></html>";
        let rows = parse_table(html);
        assert_eq!(
            rows,
            vec![
                vec!["ID", "Имя", "Мобильный телефон"],
                vec!["1", "Ольга & Co", "+7 900 123-45-67\n+7 901 765-43-21"],
                vec!["2", "Иван Петров", ""],
            ]
        );
    }

    #[test]
    fn sniffs_html_but_not_csv() {
        assert!(looks_like_html(b"\xEF\xBB\xBF  <html><table>"));
        assert!(looks_like_html(b"<TABLE border=1>"));
        assert!(!looks_like_html(b"Nombre,Tel\xC3\xA9fono\n<b>,1\n"));
        assert!(has_table(b"<html><body><TABLE>"));
    }

    #[test]
    fn decodes_windows_1251_when_the_meta_says_so() {
        let (bytes, _, _) = encoding_rs::WINDOWS_1251
            .encode("<meta charset=windows-1251><table><tr><td>Имя</td></tr></table>");
        assert!(decode(&bytes).contains("Имя"));
    }
}
