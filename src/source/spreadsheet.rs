//! Workbooks (XLSX, XLSM, XLSB, XLS, ODS) through calamine.
//!
//! calamine runs on a worker thread that sends rows through a bounded
//! channel. That gives three things at once: XLSX and XLSB sheets are
//! streamed cell by cell (calamine's cells reader borrows the workbook, which
//! an owned iterator could not hold); a panic inside calamine on a crafted
//! file is caught on that thread and becomes a [`SourceError`]; and the
//! caller's iterator stays `Send`.
//!
//! Which sheet: `--sheet` names one (exact name, then ignoring case) or
//! gives its tab position counted from 1. Otherwise the first visible
//! worksheet whose first non-empty row looks like a header: at least two
//! non-empty cells, at least two of them text, none a sentence (more than 60
//! characters or 8 words), which skips instruction and cover sheets. Such a
//! row is looked for among a sheet's first 10 non-empty rows, so a title
//! line above the table is skipped too; when a sheet has none, its first
//! non-empty row is the header. When no sheet has a header-like row, the
//! first sheet with any content is used. Rows above the header are not
//! data; rows keep the sheet's own numbering.
//!
//! Cells are rendered as a person typed them: integral numbers without
//! `.0` or exponent (exact up to 2^53), other numbers in their shortest
//! form, booleans as `TRUE`/`FALSE`, dates as ISO-8601 (`2024-03-05`, with
//! `T14:30:00` when the time is not midnight; 1904-based workbooks
//! handled), error cells as their Excel text (`#N/A`) so a broken formula
//! shows up as an invalid value instead of a silently empty one.

use std::io::{BufReader, Cursor, Read, Seek};
use std::ops::ControlFlow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use calamine::{
    Data, DataRef, ExcelDateTime, Ods, Reader, Sheet, SheetType, SheetVisible, Xls, Xlsb, Xlsx,
};

use super::{Format, ReadOptions, Record, Source, SourceError, SourceInfo};

/// Largest workbook accepted. XLSX/XLSB are streamed, but calamine still
/// loads their shared strings; XLS and ODS are loaded whole.
const MAX_STREAMED_BYTES: u64 = 512 * 1024 * 1024;
const MAX_LOADED_BYTES: u64 = 100 * 1024 * 1024;

/// Batches buffered between the worker and the consumer, and rows a batch.
/// Sending rows one by one cost more in thread wake-ups than parsing.
const CHANNEL_BATCHES: usize = 8;
const BATCH_ROWS: usize = 256;

/// A text cell longer than this (in characters) is a sentence, not a name.
const SENTENCE_CHARS: usize = 60;
const SENTENCE_WORDS: usize = 8;

/// How many non-empty rows at the top of a sheet may hold titles or notes
/// above the header.
const HEADER_SEARCH_ROWS: usize = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Xlsx,
    Xlsb,
    Xls,
    Ods,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Xlsx => "xlsx",
            Kind::Xlsb => "xlsb",
            Kind::Xls => "xls",
            Kind::Ods => "ods",
        }
    }
}

/// Where the workbook's bytes come from; reopened for each format tried.
#[derive(Clone)]
enum Input {
    File(String),
    Bytes(Arc<[u8]>),
}

trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

type Rs = Box<dyn ReadSeek>;

impl Input {
    fn reader(&self) -> std::io::Result<Rs> {
        Ok(match self {
            Input::File(p) => Box::new(BufReader::new(std::fs::File::open(p)?)),
            Input::Bytes(b) => Box::new(Cursor::new(Arc::clone(b))),
        })
    }
}

enum Msg {
    Header {
        headers: Vec<String>,
        sheet: String,
        header_row: u64,
        kind: Kind,
    },
    Records(Vec<Result<Record, SourceError>>),
}

/// Opens a workbook whose first bytes (`sample`) are a ZIP or OLE header.
pub(super) fn open(
    path: &str,
    shown: &str,
    sample: Vec<u8>,
    mut rest: Box<dyn Read + Send>,
    opts: &ReadOptions,
    on_disk: bool,
) -> Result<Source, SourceError> {
    let kinds = candidate_kinds(path, &sample);
    let limit = if kinds[0] == Kind::Xls || kinds[0] == Kind::Ods {
        MAX_LOADED_BYTES
    } else {
        MAX_STREAMED_BYTES
    };
    let too_big = || {
        SourceError::unreadable(
            shown,
            format!(
                "is too large to read as a workbook (over {} MiB): save it as CSV and read that instead",
                limit / (1024 * 1024)
            ),
        )
    };
    let input = if !on_disk {
        // calamine needs to seek, and standard input (or any stream) cannot.
        let mut bytes = sample;
        (&mut rest)
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| SourceError::io(shown, e))?;
        if bytes.len() as u64 > limit {
            return Err(too_big());
        }
        Input::Bytes(bytes.into())
    } else {
        drop(rest);
        let len = std::fs::metadata(path)
            .map_err(|e| SourceError::io(shown, e))?
            .len();
        if len > limit {
            return Err(too_big());
        }
        Input::File(path.to_string())
    };

    if kinds[0] != Kind::Xls {
        check_zip_markup(&input, shown)?;
    }

    let (tx, rx) = sync_channel::<Msg>(CHANNEL_BATCHES);
    let worker_shown = shown.to_string();
    let sheet = opts.sheet.clone();
    let spawned = std::thread::Builder::new()
        .name("waport-workbook".into())
        .spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                work(&input, &kinds, sheet.as_deref(), &worker_shown, &tx)
            }));
            let err = match outcome {
                Ok(Ok(())) => return,
                Ok(Err(e)) => e,
                Err(_) => SourceError::unreadable(
                    &worker_shown,
                    "could not be read: its content is malformed and the spreadsheet reader gave up",
                ),
            };
            let _ = tx.send(Msg::Records(vec![Err(err)]));
        });
    if let Err(e) = spawned {
        return Err(SourceError::io(shown, e));
    }

    match rx.recv() {
        Ok(Msg::Header {
            headers,
            sheet,
            header_row,
            kind,
        }) => Ok(Source {
            headers,
            info: SourceInfo {
                path: path.to_string(),
                format: Format::Spreadsheet,
                encoding: None,
                delimiter: None,
                sheet: Some(sheet),
                workbook: Some(kind.name()),
                header_row,
                bom: false,
                crlf: false,
            },
            records: Box::new(RecordStream {
                rx,
                batch: Vec::new().into_iter(),
            }),
        }),
        // Before the header, the worker only ever sends an error.
        Ok(Msg::Records(batch)) if matches!(batch.first(), Some(Err(_))) => {
            match batch.into_iter().next() {
                Some(Err(e)) => Err(e),
                _ => Err(SourceError::unreadable(shown, "could not be read")),
            }
        }
        Ok(Msg::Records(_)) | Err(_) => Err(SourceError::unreadable(
            shown,
            "could not be read: the spreadsheet reader stopped without a header row",
        )),
    }
}

struct RecordStream {
    rx: Receiver<Msg>,
    batch: std::vec::IntoIter<Result<Record, SourceError>>,
}

impl Iterator for RecordStream {
    type Item = Result<Record, SourceError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.batch.next() {
                return Some(r);
            }
            match self.rx.recv() {
                Ok(Msg::Records(batch)) => self.batch = batch.into_iter(),
                Ok(Msg::Header { .. }) => continue,
                Err(_) => return None,
            }
        }
    }
}

/// The longest stretch of an XML part between two markup characters (`<`,
/// `>`) accepted before calamine sees the workbook: a cell's text at the
/// cap, even written entirely as 6-byte entities (`&quot;`).
const MAX_XML_RUN: u64 = 6 * super::MAX_CELL_BYTES as u64 + 4096;

/// Refuses a ZIP workbook holding a text run longer than [`MAX_XML_RUN`] in
/// any of its XML parts, before calamine reads it.
///
/// calamine reads a cell's whole text (and every shared string) into memory
/// before waport sees it, with no way to cap it: a 2 MB XLSX holding one
/// 2 GiB inline string took 10.5 GB and 102 s. Every XML part is therefore
/// inflated once here, in a small buffer, and the scan stops at the first
/// over-long run, so a bomb costs a few MB of inflating, not gigabytes.
/// Declared sizes in the ZIP directory are not trusted: they can lie.
fn check_zip_markup(input: &Input, shown: &str) -> Result<(), SourceError> {
    let rs = input.reader().map_err(|e| SourceError::io(shown, e))?;
    // Not a readable ZIP: calamine will say what is wrong with it.
    let Ok(mut zip) = zip::ZipArchive::new(rs) else {
        return Ok(());
    };
    for i in 0..zip.len() {
        let Ok(mut entry) = zip.by_index(i) else {
            continue;
        };
        let Ok(name) = entry.name().map(|n| n.to_string()) else {
            continue;
        };
        if !name.ends_with(".xml") {
            continue;
        }
        match longest_run(&mut entry, MAX_XML_RUN) {
            Ok(None) => {}
            Ok(Some(cell)) => {
                let at = match cell {
                    Some(r) => format!("cell {r} of {name}"),
                    None => name,
                };
                return Err(SourceError::unreadable(
                    shown,
                    format!(
                        "has a cell larger than 1 MiB ({at}): no contact field is that long, so the workbook is damaged or not a contact list; fix or remove that cell"
                    ),
                ));
            }
            // A damaged entry is calamine's to report.
            Err(_) => {}
        }
    }
    Ok(())
}

/// Scans XML for a run of more than `limit` bytes between `<`/`>`
/// characters. `Some(cell)` when one is found, with the `r` attribute of
/// the last `<c` element opened before it (the cell reference) if any.
fn longest_run(xml: &mut dyn Read, limit: u64) -> std::io::Result<Option<Option<String>>> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut run: u64 = 0;
    // The start of the current tag, to find `<c r="B2"`.
    let mut tag: Vec<u8> = Vec::with_capacity(64);
    let mut in_tag = false;
    let mut cell: Option<String> = None;
    loop {
        let n = match xml.read(&mut buf) {
            Ok(0) => return Ok(None),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let chunk = &buf[..n];
        let mut from = 0;
        for i in memchr::memchr2_iter(b'<', b'>', chunk) {
            run += (i - from) as u64;
            if run > limit {
                return Ok(Some(cell));
            }
            if in_tag && tag.len() < 64 {
                let take = (i - from).min(64 - tag.len());
                tag.extend_from_slice(&chunk[from..from + take]);
            }
            if chunk[i] == b'<' {
                in_tag = true;
                tag.clear();
            } else {
                if in_tag && let Some(r) = cell_ref(&tag) {
                    cell = Some(r);
                }
                in_tag = false;
            }
            run = 0;
            from = i + 1;
        }
        run += (n - from) as u64;
        if run > limit {
            return Ok(Some(cell));
        }
        if in_tag && tag.len() < 64 {
            let take = (n - from).min(64 - tag.len());
            tag.extend_from_slice(&chunk[from..from + take]);
        }
    }
}

/// The `r` attribute of a `c` start tag's text (`c r="B2" t="s"`).
fn cell_ref(tag: &[u8]) -> Option<String> {
    let rest = tag.strip_prefix(b"c ")?;
    let at = rest.windows(3).position(|w| w == b"r=\"")?;
    let value = &rest[at + 3..];
    let end = value.iter().position(|&b| b == b'"')?;
    String::from_utf8(value[..end].to_vec()).ok()
}

/// A column index (from 0) as a spreadsheet names it: A, B, ..., Z, AA.
fn column_name(col: u32) -> String {
    let mut n = u64::from(col) + 1;
    let mut out = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        out.push(b'A' + rem);
        n = (n - 1) / 26;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The error text for a cell over the cap, found after calamine read it.
fn too_large(row: u32, col: u32) -> String {
    format!(
        "cell {}{} is larger than 1 MiB: no contact field is that long; fix or remove that cell",
        column_name(col),
        row + 1
    )
}

/// Formats to try, most likely first: content decides over the extension.
fn candidate_kinds(path: &str, sample: &[u8]) -> Vec<Kind> {
    if sample.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        // An encrypted XLSX is also an OLE file: trying Xlsx after Xls
        // lets calamine recognise it and report the password.
        return vec![Kind::Xls, Kind::Xlsx];
    }
    // ODS stores an uncompressed `mimetype` entry first, by specification.
    let ods_magic = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet";
    if sample.len() > 30 && sample[30..].starts_with(ods_magic) {
        return vec![Kind::Ods, Kind::Xlsx, Kind::Xlsb];
    }
    match super::extension(path).as_deref() {
        Some("xlsb") => vec![Kind::Xlsb, Kind::Xlsx, Kind::Ods],
        Some("ods") => vec![Kind::Ods, Kind::Xlsx, Kind::Xlsb],
        _ => vec![Kind::Xlsx, Kind::Xlsb, Kind::Ods],
    }
}

enum Book {
    Xlsx(Xlsx<Rs>),
    Xlsb(Xlsb<Rs>),
    Xls(Xls<Rs>),
    Ods(Ods<Rs>),
}

fn open_book(input: &Input, kinds: &[Kind], shown: &str) -> Result<(Book, Kind), SourceError> {
    let mut first_error: Option<String> = None;
    for &kind in kinds {
        let rs = input.reader().map_err(|e| SourceError::io(shown, e))?;
        let result = match kind {
            Kind::Xlsx => Xlsx::new(rs)
                .map(Book::Xlsx)
                .map_err(|e| (matches!(e, calamine::XlsxError::Password), e.to_string())),
            Kind::Xlsb => Xlsb::new(rs)
                .map(Book::Xlsb)
                .map_err(|e| (matches!(e, calamine::XlsbError::Password), e.to_string())),
            Kind::Xls => Xls::new(rs)
                .map(Book::Xls)
                .map_err(|e| (matches!(e, calamine::XlsError::Password), e.to_string())),
            Kind::Ods => Ods::new(rs)
                .map(Book::Ods)
                .map_err(|e| (matches!(e, calamine::OdsError::Password), e.to_string())),
        };
        match result {
            Ok(book) => return Ok((book, kind)),
            Err((true, _)) => {
                return Err(SourceError::unreadable(
                    shown,
                    "is password-protected: remove the password in the spreadsheet program and save it again",
                ));
            }
            Err((false, msg)) => {
                first_error.get_or_insert(msg);
            }
        }
    }
    let why = first_error.unwrap_or_default();
    let what = if kinds[0] == Kind::Xls {
        "is not a readable Excel workbook"
    } else {
        "is a ZIP archive but not a readable workbook"
    };
    Err(SourceError::unreadable(shown, format!("{what} ({why})")))
}

/// One cell rendered as text.
struct CellText {
    col: u32,
    text: String,
    is_text: bool,
}

/// One non-empty sheet row (0-based index as calamine gives it).
struct SheetRow {
    index: u32,
    cells: Vec<CellText>,
}

/// Groups cells arriving in row order into rows.
#[derive(Default)]
struct RowAssembler {
    current: Option<SheetRow>,
}

impl RowAssembler {
    fn push(&mut self, row: u32, cell: CellText) -> Option<SheetRow> {
        match &mut self.current {
            Some(r) if r.index == row => {
                r.cells.push(cell);
                None
            }
            _ => self.current.replace(SheetRow {
                index: row,
                cells: vec![cell],
            }),
        }
    }

    fn finish(&mut self) -> Option<SheetRow> {
        self.current.take()
    }
}

type RowSink<'a> = &'a mut dyn FnMut(SheetRow) -> ControlFlow<()>;

impl Book {
    fn sheets(&self) -> Vec<Sheet> {
        match self {
            Book::Xlsx(b) => b.sheets_metadata().to_vec(),
            Book::Xlsb(b) => b.sheets_metadata().to_vec(),
            Book::Xls(b) => b.sheets_metadata().to_vec(),
            Book::Ods(b) => b.sheets_metadata().to_vec(),
        }
    }

    /// Feeds the sheet's non-empty rows to `sink` until it breaks.
    fn rows(&mut self, name: &str, sink: RowSink<'_>) -> Result<(), String> {
        let mut asm = RowAssembler::default();
        macro_rules! stream_cells {
            ($book:expr) => {{
                let mut cells = $book
                    .worksheet_cells_reader(name)
                    .map_err(|e| e.to_string())?;
                while let Some(cell) = cells.next_cell().map_err(|e| e.to_string())? {
                    let (row, col) = cell.get_position();
                    if let Some((text, is_text)) = render_ref(cell.get_value()) {
                        if text.len() > super::MAX_CELL_BYTES {
                            return Err(too_large(row, col));
                        }
                        let done = asm.push(row, CellText { col, text, is_text });
                        if let Some(r) = done {
                            if sink(r).is_break() {
                                return Ok(());
                            }
                        }
                    }
                }
            }};
        }
        macro_rules! loaded_range {
            ($book:expr) => {{
                let range = $book.worksheet_range(name).map_err(|e| e.to_string())?;
                let (r0, c0) = range.start().unwrap_or((0, 0));
                for (r, c, value) in range.used_cells() {
                    if let Some((text, is_text)) = render_data(value) {
                        let row = r0.saturating_add(r as u32);
                        let col = c0.saturating_add(c as u32);
                        if text.len() > super::MAX_CELL_BYTES {
                            return Err(too_large(row, col));
                        }
                        if let Some(r) = asm.push(row, CellText { col, text, is_text }) {
                            if sink(r).is_break() {
                                return Ok(());
                            }
                        }
                    }
                }
            }};
        }
        match self {
            Book::Xlsx(b) => stream_cells!(b),
            Book::Xlsb(b) => stream_cells!(b),
            Book::Xls(b) => loaded_range!(b),
            Book::Ods(b) => loaded_range!(b),
        }
        if let Some(r) = asm.finish() {
            let _ = sink(r);
        }
        Ok(())
    }

    /// The header row: the first of the sheet's first few non-empty rows
    /// that looks like a header (skipping a title line above the table),
    /// else the first non-empty row. The flag says whether it looked like one.
    fn header_row(&mut self, name: &str) -> Result<Option<(SheetRow, bool)>, String> {
        let mut first: Option<SheetRow> = None;
        let mut found: Option<SheetRow> = None;
        let mut seen = 0;
        self.rows(name, &mut |r| {
            if looks_like_header(&r) {
                found = Some(r);
                return ControlFlow::Break(());
            }
            if first.is_none() {
                first = Some(r);
            }
            seen += 1;
            if seen >= HEADER_SEARCH_ROWS {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })?;
        Ok(found.map(|r| (r, true)).or(first.map(|r| (r, false))))
    }
}

fn sheet_error(shown: &str, sheet: &str, why: String) -> SourceError {
    SourceError::unreadable(
        shown,
        format!("has a sheet '{sheet}' that cannot be read ({why})"),
    )
}

fn looks_like_header(row: &SheetRow) -> bool {
    let texts = row.cells.iter().filter(|c| c.is_text).count();
    row.cells.len() >= 2 && texts >= 2 && row.cells.iter().all(|c| !is_sentence(&c.text))
}

fn is_sentence(text: &str) -> bool {
    text.chars().count() > SENTENCE_CHARS || text.split_whitespace().count() > SENTENCE_WORDS
}

/// Chooses the sheet and its header row, per the module docs.
fn choose_sheet(
    book: &mut Book,
    wanted: Option<&str>,
    shown: &str,
) -> Result<(String, SheetRow), SourceError> {
    let sheets = book.sheets();
    if sheets.is_empty() {
        return Err(SourceError::unreadable(shown, "has no sheets"));
    }
    if let Some(want) = wanted {
        let found = sheets
            .iter()
            .find(|s| s.name == want)
            .or_else(|| {
                sheets
                    .iter()
                    .find(|s| s.name.eq_ignore_ascii_case(want.trim()))
            })
            .or_else(|| {
                want.trim()
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|i| sheets.get(i))
            });
        let Some(sheet) = found else {
            let names: Vec<String> = sheets.iter().map(|s| format!("'{}'", s.name)).collect();
            return Err(SourceError::unreadable(
                shown,
                format!(
                    "has no sheet '{want}' (its sheets are {}; a number picks a sheet by position from 1)",
                    names.join(", ")
                ),
            ));
        };
        let name = sheet.name.clone();
        return match book.header_row(&name) {
            Ok(Some((row, _))) => Ok((name, row)),
            Ok(None) => Err(SourceError::unreadable(
                shown,
                format!("has nothing in sheet '{name}': there is no header row"),
            )),
            Err(why) => Err(sheet_error(shown, &name, why)),
        };
    }

    let visible: Vec<&Sheet> = sheets
        .iter()
        .filter(|s| s.typ == SheetType::WorkSheet && s.visible == SheetVisible::Visible)
        .collect();
    let candidates: Vec<&Sheet> = if visible.is_empty() {
        sheets.iter().collect()
    } else {
        visible
    };
    let mut fallback: Option<(String, SheetRow)> = None;
    let mut first_error: Option<SourceError> = None;
    for sheet in candidates {
        match book.header_row(&sheet.name) {
            Ok(Some((row, true))) => return Ok((sheet.name.clone(), row)),
            Ok(Some((row, false))) => {
                if fallback.is_none() {
                    fallback = Some((sheet.name.clone(), row));
                }
            }
            Ok(None) => {}
            Err(why) => {
                if first_error.is_none() {
                    first_error = Some(sheet_error(shown, &sheet.name, why));
                }
            }
        }
    }
    match (fallback, first_error) {
        (Some(found), _) => Ok(found),
        (None, Some(e)) => Err(e),
        (None, None) => Err(SourceError::unreadable(
            shown,
            "has no header row: every sheet is empty",
        )),
    }
}

/// The worker: opens the book, picks the sheet, sends header then rows.
fn work(
    input: &Input,
    kinds: &[Kind],
    wanted: Option<&str>,
    shown: &str,
    tx: &SyncSender<Msg>,
) -> Result<(), SourceError> {
    let (mut book, kind) = open_book(input, kinds, shown)?;
    let (sheet, header) = choose_sheet(&mut book, wanted, shown)?;

    let width = header
        .cells
        .iter()
        .map(|c| c.col as usize + 1)
        .max()
        .unwrap_or(0);
    let mut raw = vec![String::new(); width];
    for cell in header.cells {
        raw[cell.col as usize] = cell.text;
    }
    let headers = super::finish_headers(raw);
    let header_index = header.index;
    let sent = tx.send(Msg::Header {
        headers,
        sheet: sheet.clone(),
        header_row: u64::from(header_index) + 1,
        kind,
    });
    if sent.is_err() {
        return Ok(());
    }

    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut stopped = false;
    let result = book.rows(&sheet, &mut |row| {
        if row.index <= header_index {
            return ControlFlow::Continue(());
        }
        let found = row
            .cells
            .iter()
            .map(|c| c.col as usize + 1)
            .max()
            .unwrap_or(0);
        let mut fields = vec![String::new(); width.max(found)];
        for cell in row.cells {
            fields[cell.col as usize] = cell.text;
        }
        let record = Record {
            row: u64::from(row.index) + 1,
            problem: if found > width {
                super::ragged(width, found)
            } else {
                None
            },
            fields: fields.into(),
        };
        batch.push(Ok(record));
        if batch.len() < BATCH_ROWS {
            return ControlFlow::Continue(());
        }
        let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
        match tx.send(Msg::Records(full)) {
            Ok(()) => ControlFlow::Continue(()),
            // The consumer stopped reading: nothing more to do.
            Err(_) => {
                stopped = true;
                ControlFlow::Break(())
            }
        }
    });
    if let Err(why) = result {
        batch.push(Err(sheet_error(shown, &sheet, why)));
    }
    if !stopped && !batch.is_empty() {
        let _ = tx.send(Msg::Records(batch));
    }
    Ok(())
}

/// Renders a streamed cell; `None` for an empty one. The flag says text.
fn render_ref(value: &DataRef<'_>) -> Option<(String, bool)> {
    let out = match value {
        DataRef::Empty => return None,
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => (s.clone(), true),
        DataRef::SharedString(s) => ((*s).to_string(), true),
        DataRef::Int(i) => (i.to_string(), false),
        DataRef::Float(f) => (render_float(*f), false),
        DataRef::Bool(b) => (render_bool(*b), false),
        DataRef::DateTime(dt) => (render_datetime(dt), false),
        DataRef::Error(e) => (e.to_string(), false),
    };
    (!out.0.is_empty()).then_some(out)
}

/// Renders a loaded cell; same rules as [`render_ref`].
fn render_data(value: &Data) -> Option<(String, bool)> {
    let out = match value {
        Data::Empty => return None,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => (s.clone(), true),
        Data::Int(i) => (i.to_string(), false),
        Data::Float(f) => (render_float(*f), false),
        Data::Bool(b) => (render_bool(*b), false),
        Data::DateTime(dt) => (render_datetime(dt), false),
        Data::Error(e) => (e.to_string(), false),
    };
    (!out.0.is_empty()).then_some(out)
}

fn render_bool(b: bool) -> String {
    if b { "TRUE" } else { "FALSE" }.to_string()
}

/// 2^53: every integer up to here is exact in an f64.
const EXACT_INT_LIMIT: f64 = 9_007_199_254_740_992.0;

/// A number as a person typed it: phones stored as numbers stay digits.
pub(crate) fn render_float(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() <= EXACT_INT_LIMIT {
        // In range for i64 by the check above; `-0.0` becomes `0`.
        format!("{}", v as i64)
    } else {
        // Rust's `Display` is the shortest round-trip form, never exponent.
        format!("{v}")
    }
}

fn render_datetime(dt: &ExcelDateTime) -> String {
    let serial = dt.as_f64();
    if dt.is_duration() {
        let total = (serial * 86_400.0).round() as i64;
        let sign = if total < 0 { "-" } else { "" };
        let t = total.abs();
        return format!("{sign}{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60);
    }
    let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
    let time = if ms > 0 {
        format!("{h:02}:{mi:02}:{s:02}.{ms:03}")
    } else {
        format!("{h:02}:{mi:02}:{s:02}")
    };
    if (0.0..1.0).contains(&serial) {
        // A bare time of day: the epoch date would be noise.
        time
    } else if h == 0 && mi == 0 && s == 0 && ms == 0 {
        format!("{y:04}-{mo:02}-{d:02}")
    } else {
        format!("{y:04}-{mo:02}-{d:02}T{time}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::ExcelDateTimeType;

    #[test]
    fn floats_render_as_typed() {
        assert_eq!(render_float(5215512345678.0), "5215512345678");
        assert_eq!(render_float(9_007_199_254_740_992.0), "9007199254740992");
        assert_eq!(render_float(-0.0), "0");
        assert_eq!(render_float(0.1), "0.1");
        assert_eq!(render_float(1234.5), "1234.5");
        assert_eq!(render_float(1e20), "100000000000000000000");
    }

    #[test]
    fn dates_render_iso() {
        let date = ExcelDateTime::new(45356.0, ExcelDateTimeType::DateTime, false);
        assert_eq!(render_datetime(&date), "2024-03-05");
        let dt = ExcelDateTime::new(45356.604166666664, ExcelDateTimeType::DateTime, false);
        assert_eq!(render_datetime(&dt), "2024-03-05T14:30:00");
        let d1904 = ExcelDateTime::new(43894.0, ExcelDateTimeType::DateTime, true);
        assert_eq!(render_datetime(&d1904), "2024-03-05");
        let time = ExcelDateTime::new(0.5, ExcelDateTimeType::DateTime, false);
        assert_eq!(render_datetime(&time), "12:00:00");
        let dur = ExcelDateTime::new(1.5, ExcelDateTimeType::TimeDelta, false);
        assert_eq!(render_datetime(&dur), "36:00:00");
    }

    #[test]
    fn header_heuristic() {
        let row = |texts: &[&str]| SheetRow {
            index: 0,
            cells: texts
                .iter()
                .enumerate()
                .map(|(i, t)| CellText {
                    col: i as u32,
                    text: t.to_string(),
                    is_text: true,
                })
                .collect(),
        };
        assert!(looks_like_header(&row(&["Nombre", "Teléfono"])));
        assert!(!looks_like_header(&row(&[
            "Llene la hoja Contactos con un contacto por fila y no cambie los encabezados"
        ])));
        assert!(!looks_like_header(&row(&["Instrucciones"])));
    }
}
