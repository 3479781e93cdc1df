//! Text encoding detection and a streaming decoder for delimited files.
//!
//! Detection order: a byte-order mark (UTF-8, UTF-16LE, UTF-16BE) wins;
//! then a forced UTF-16 (`--encoding utf-16le` on a file without a BOM,
//! whose ASCII-with-NULs bytes would otherwise pass as UTF-8); then a
//! sample that is UTF-8 means UTF-8; then `--encoding`; then windows-1251
//! when the sample reads as Cyrillic words, else windows-1252. Valid UTF-8
//! beats `--encoding` because text in a single-byte code page with any
//! accented letter is practically never valid UTF-8, so a user who forces
//! `latin1` on a batch of mixed files still gets the UTF-8 ones right.
//!
//! "The sample is UTF-8" allows a few stray bytes: a sample with valid
//! multi-byte UTF-8 characters that outnumber its invalid sequences is a
//! UTF-8 file with damage (one `é` pasted from a Windows-1252 source), not a
//! Windows-1252 file; reading it all as Windows-1252 would turn every
//! `José` into `JosÃ©`. Such a file, like any UTF-8 one, is read as raw
//! bytes (no transcoding copy) and each record is checked on its own: a
//! field that is not UTF-8 is read as windows-1252, and the reader warns
//! naming the row.
//!
//! Windows-1251 against windows-1252: both put letters in 0xC0..=0xFF.
//! Cyrillic words are runs of such bytes (`Полное` is six in a row), while
//! Latin text has one accented letter among ASCII ones (`Teléfono`,
//! `Núñez`; Portuguese `ção` makes two). Russian Excel saves CSV in
//! windows-1251, so a sample whose high letters mostly sit in runs of three
//! or more is read as windows-1251.
//!
//! Only the first 64 KiB are sampled.

use std::io::{self, Read};

use encoding_rs::{Decoder, Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1251, WINDOWS_1252};

/// Maps a user's label to an encoding; `None` when it is unknown.
///
/// WHATWG labels are accepted (`latin1` and `iso-8859-1` already mean
/// windows-1252 there, as browsers do); the `replacement` pseudo-encoding
/// is refused because it decodes nothing.
pub fn resolve_label(label: &str) -> Option<&'static Encoding> {
    let enc = Encoding::for_label(label.trim().as_bytes())?;
    (enc != encoding_rs::REPLACEMENT).then_some(enc)
}

/// How the bytes of a delimited file are to be turned into text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detected {
    /// The encoding used.
    pub encoding: &'static Encoding,
    /// Length of the byte-order mark to skip (0 when there is none).
    pub bom_len: usize,
    /// True when the file is read as raw UTF-8 bytes (the fast path).
    pub raw_utf8: bool,
}

/// Chooses the encoding from the sample, following the module's order.
///
/// `truncated` says whether the sample stops before the end of the input,
/// in which case a multi-byte character cut at the end is not an error.
pub fn detect(sample: &[u8], truncated: bool, forced: Option<&'static Encoding>) -> Detected {
    if let Some((enc, bom_len)) = Encoding::for_bom(sample) {
        return Detected {
            encoding: enc,
            bom_len,
            raw_utf8: enc == UTF_8,
        };
    }
    if let Some(enc) = forced.filter(|e| *e == UTF_16LE || *e == UTF_16BE) {
        return Detected {
            encoding: enc,
            bom_len: 0,
            raw_utf8: false,
        };
    }
    if is_utf8(sample, truncated) || mostly_utf8(sample) {
        return Detected {
            encoding: UTF_8,
            bom_len: 0,
            raw_utf8: true,
        };
    }
    let enc = forced.unwrap_or_else(|| {
        if looks_cyrillic(sample) {
            WINDOWS_1251
        } else {
            WINDOWS_1252
        }
    });
    Detected {
        encoding: enc,
        bom_len: 0,
        raw_utf8: false,
    }
}

/// Strict UTF-8 check that forgives a character cut by the sample's end.
fn is_utf8(sample: &[u8], truncated: bool) -> bool {
    match std::str::from_utf8(sample) {
        Ok(_) => true,
        // `error_len() == None` means "incomplete sequence at the end".
        Err(e) => truncated && e.error_len().is_none() && sample.len() - e.valid_up_to() < 4,
    }
}

/// Whether a sample that is not strict UTF-8 is still a UTF-8 file with a
/// few stray bytes: its valid multi-byte characters outnumber its invalid
/// sequences (see the module docs).
fn mostly_utf8(sample: &[u8]) -> bool {
    let mut valid_multibyte = 0usize;
    let mut invalid = 0usize;
    let mut rest = sample;
    loop {
        match std::str::from_utf8(rest) {
            Ok(text) => {
                valid_multibyte += text.chars().filter(|c| !c.is_ascii()).count();
                break;
            }
            Err(e) => {
                let (good, bad) = rest.split_at(e.valid_up_to());
                // Only the prefix is valid here.
                valid_multibyte += std::str::from_utf8(good)
                    .map_or(0, |t| t.chars().filter(|c| !c.is_ascii()).count());
                match e.error_len() {
                    Some(n) => {
                        invalid += 1;
                        rest = &bad[n..];
                    }
                    // A character cut by the sample's end.
                    None => break,
                }
            }
        }
    }
    valid_multibyte > invalid
}

/// Whether single-byte text reads as Cyrillic windows-1251 rather than
/// Latin windows-1252: most of its letters from 0xC0 up (plus `Ё` `ё`,
/// 0xA8 0xB8) sit in runs of three or more (see the module docs).
fn looks_cyrillic(sample: &[u8]) -> bool {
    let letter = |b: u8| b >= 0xC0 || b == 0xA8 || b == 0xB8;
    let mut in_runs = 0usize;
    let mut alone = 0usize;
    let mut run = 0usize;
    for &b in sample.iter().chain(std::iter::once(&b' ')) {
        if letter(b) {
            run += 1;
            continue;
        }
        if run >= 3 {
            in_runs += run;
        } else {
            alone += run;
        }
        run = 0;
    }
    in_runs > alone
}

/// Decodes the sample to text for delimiter detection.
pub fn decode_sample(sample: &[u8], detected: &Detected) -> String {
    let body = &sample[detected.bom_len.min(sample.len())..];
    if detected.raw_utf8 {
        String::from_utf8_lossy(body).into_owned()
    } else {
        detected
            .encoding
            .decode_without_bom_handling(body)
            .0
            .into_owned()
    }
}

/// Turns one field's bytes into text on the raw UTF-8 path: UTF-8 as it
/// is, anything else as windows-1252 (the second value says so).
///
/// windows-1252 rather than U+FFFD replacement characters: a stray byte in
/// a UTF-8 file is almost always a character pasted from a Windows source,
/// and every byte decodes to something a user can recognise and fix.
pub fn field_text(bytes: &[u8]) -> (String, bool) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), false),
        Err(_) => (
            WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
                .into_owned(),
            true,
        ),
    }
}

/// A [`Read`] adapter that decodes any encoding_rs encoding into UTF-8,
/// a buffer at a time, so a large non-UTF-8 file streams in bounded memory.
pub struct DecodingReader<R> {
    inner: R,
    decoder: Decoder,
    input: Box<[u8]>,
    in_pos: usize,
    in_len: usize,
    eof: bool,
    output: Vec<u8>,
    out_pos: usize,
    finished: bool,
    replaced: bool,
}

const DECODE_CHUNK: usize = 32 * 1024;

impl<R: Read> DecodingReader<R> {
    /// Wraps `inner`, whose BOM (if any) must already be skipped.
    pub fn new(inner: R, encoding: &'static Encoding) -> Self {
        DecodingReader {
            inner,
            decoder: encoding.new_decoder_without_bom_handling(),
            input: vec![0; DECODE_CHUNK].into_boxed_slice(),
            in_pos: 0,
            in_len: 0,
            eof: false,
            output: Vec::with_capacity(DECODE_CHUNK * 3 + 16),
            out_pos: 0,
            finished: false,
            replaced: false,
        }
    }

    /// True once some malformed input was replaced by U+FFFD.
    pub fn had_replacements(&self) -> bool {
        self.replaced
    }

    fn refill(&mut self) -> io::Result<()> {
        if self.in_pos == self.in_len && !self.eof {
            self.in_pos = 0;
            self.in_len = loop {
                match self.inner.read(&mut self.input) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            if self.in_len == 0 {
                self.eof = true;
            }
        }
        let pending = self.in_len - self.in_pos;
        let room = self
            .decoder
            .max_utf8_buffer_length(pending)
            .unwrap_or(pending * 3 + 16)
            .max(16);
        self.output.clear();
        self.output.resize(room, 0);
        self.out_pos = 0;
        let (result, read, written, replaced) = self.decoder.decode_to_utf8(
            &self.input[self.in_pos..self.in_len],
            &mut self.output,
            self.eof,
        );
        self.in_pos += read;
        self.output.truncate(written);
        self.replaced |= replaced;
        if self.eof && result == encoding_rs::CoderResult::InputEmpty && self.in_pos == self.in_len
        {
            self.finished = true;
        }
        Ok(())
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.out_pos < self.output.len() {
                let n = buf.len().min(self.output.len() - self.out_pos);
                buf[..n].copy_from_slice(&self.output[self.out_pos..self.out_pos + n]);
                self.out_pos += n;
                return Ok(n);
            }
            if self.finished || buf.is_empty() {
                return Ok(0);
            }
            self.refill()?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(bytes: &[u8], enc: &'static Encoding) -> String {
        let mut out = String::new();
        DecodingReader::new(bytes, enc)
            .read_to_string(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn decodes_windows_1252_in_small_reads() {
        let bytes = b"Tel\xe9fono;Pa\xeds\r\nJos\xe9;M\xe9xico\r\n";
        let mut r = DecodingReader::new(&bytes[..], WINDOWS_1252);
        let mut out = Vec::new();
        let mut one = [0u8; 1];
        while r.read(&mut one).unwrap() == 1 {
            out.push(one[0]);
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Teléfono;País\r\nJosé;México\r\n"
        );
    }

    #[test]
    fn decodes_utf16_split_across_chunks() {
        let text = "Имя,Телефон\n".repeat(5000);
        let mut bytes = Vec::new();
        for u in text.encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(decode_all(&bytes, UTF_16LE), text);
    }

    #[test]
    fn detection_order() {
        assert_eq!(detect(b"\xef\xbb\xbfa,b", false, None).bom_len, 3);
        assert_eq!(
            detect(b"\xff\xfea\0", false, Some(WINDOWS_1252)).encoding,
            UTF_16LE
        );
        let d = detect("Teléfono".as_bytes(), false, Some(WINDOWS_1252));
        assert!(d.raw_utf8 && d.encoding == UTF_8);
        let cyr = encoding_rs::WINDOWS_1251;
        assert_eq!(detect(b"\xc8\xec\xff", false, Some(cyr)).encoding, cyr);
        assert_eq!(detect(b"Tel\xe9fono", false, None).encoding, WINDOWS_1252);
        // A two-byte character cut by the sample's end is still UTF-8.
        assert!(detect(b"Jos\xc3", true, None).raw_utf8);
        assert!(!detect(b"Jos\xc3", false, None).raw_utf8);
    }

    #[test]
    fn a_stray_byte_in_utf8_text_keeps_it_utf8() {
        let mut bytes = b"Mar\xeda,1\n".to_vec();
        bytes.extend_from_slice("José Núñez,2\n".as_bytes());
        assert!(detect(&bytes, false, None).raw_utf8);
        // Windows-1252 text with no valid UTF-8 character is not UTF-8.
        assert!(!detect(b"Jos\xe9 N\xfa\xf1ez,2\n", false, None).raw_utf8);
    }

    #[test]
    fn cyrillic_runs_mean_windows_1251() {
        let (ru, _, _) = WINDOWS_1251.encode("Полное имя;Мобильный телефон\nИван;+7 916\n");
        assert_eq!(detect(&ru, false, None).encoding, WINDOWS_1251);
        let (pt, _, _) = WINDOWS_1252.encode("Nome;Informações;Ação\nJoão;São Paulo\n");
        assert_eq!(detect(&pt, false, None).encoding, WINDOWS_1252);
        let (es, _, _) = WINDOWS_1252.encode("Nombre;Teléfono\nJosé Núñez;Querétaro\n");
        assert_eq!(detect(&es, false, None).encoding, WINDOWS_1252);
    }

    #[test]
    fn labels() {
        assert_eq!(resolve_label("latin1"), Some(WINDOWS_1252));
        assert_eq!(resolve_label("ISO-8859-1"), Some(WINDOWS_1252));
        assert_eq!(resolve_label("no-such-thing"), None);
    }
}
