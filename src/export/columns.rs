//! The column model of a tabular export: which cells a row becomes, in which
//! order, under which header.

use super::{ExportError, ExportRow};
use crate::model::{Contact, Field};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

/// The canonical fields between `id` and `created_at`, in export order.
///
/// Their headers are the fields' names, the names the import auto-mapping
/// recognizes, so an export re-imports without a mapping file.
const CANONICAL: [Field; 14] = [
    Field::ExternalId,
    Field::FirstName,
    Field::LastName,
    Field::Name,
    Field::Phone,
    Field::Email,
    Field::Company,
    Field::City,
    Field::State,
    Field::Country,
    Field::PostalCode,
    Field::Address,
    Field::Notes,
    Field::Tags,
];

/// Headers that are not canonical contact fields but are fixed columns.
const ID: &str = "id";
const CREATED_AT: &str = "created_at";
const UPDATED_AT: &str = "updated_at";

/// The prefix a mapping uses for custom fields; also used for a custom field
/// whose name would repeat a fixed header.
const CUSTOM_PREFIX: &str = "custom:";

/// One column of an export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Column {
    /// The platform's identifier for the contact (header `id`).
    Id,
    /// A canonical [`Contact`] field (header = its name).
    Field(Field),
    /// When the contact was created (header `created_at`).
    CreatedAt,
    /// When the contact was last changed (header `updated_at`).
    UpdatedAt,
    /// A custom field by its key in [`Contact::custom`].
    Custom(String),
}

impl Column {
    /// The cell this column takes from `row` (empty when absent).
    ///
    /// Tags are joined with `;`, which the import splits on.
    pub fn value<'a>(&self, row: &'a ExportRow) -> Cow<'a, str> {
        let c = &row.contact;
        match self {
            Column::Id => Cow::Borrowed(&row.remote_id),
            Column::CreatedAt => Cow::Borrowed(row.created_at.as_deref().unwrap_or("")),
            Column::UpdatedAt => Cow::Borrowed(row.updated_at.as_deref().unwrap_or("")),
            Column::Custom(key) => Cow::Borrowed(c.custom.get(key).map_or("", String::as_str)),
            Column::Field(f) => c.get(*f),
        }
    }

    /// True for the timestamp columns, which XLSX writes as dates.
    pub fn is_date(&self) -> bool {
        matches!(self, Column::CreatedAt | Column::UpdatedAt)
    }
}

/// The columns of an export, in order, with their headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Columns {
    cols: Vec<Column>,
    headers: Vec<String>,
    /// True once narrowed by `--columns`: then custom fields left out were
    /// left out on purpose and are not worth a warning.
    selected: bool,
}

impl Columns {
    /// Every column: `id`, the canonical fields, `created_at`, `updated_at`,
    /// then one column per custom field name in the order given (repeats
    /// dropped).
    ///
    /// A custom field whose name equals a fixed header (a custom field called
    /// `email`, say) is headed `custom:email` so the file never has two
    /// columns of the same name; the import reads `custom:NAME` back as that
    /// custom field.
    pub fn new<I, S>(custom_field_names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut cols = vec![Column::Id];
        cols.extend(CANONICAL.map(Column::Field));
        cols.push(Column::CreatedAt);
        cols.push(Column::UpdatedAt);
        let mut headers: Vec<String> = cols.iter().map(fixed_header).collect();
        let mut seen = BTreeSet::new();
        for name in custom_field_names {
            let name: String = name.into();
            if !seen.insert(name.clone()) {
                continue;
            }
            let header = if name.is_empty() || headers.iter().any(|h| h == &name) {
                format!("{CUSTOM_PREFIX}{name}")
            } else {
                name.clone()
            };
            headers.push(header);
            cols.push(Column::Custom(name));
        }
        Self {
            cols,
            headers,
            selected: false,
        }
    }

    /// Narrows and reorders the columns from a `--columns a,b,c` list.
    ///
    /// Names are headers as they appear in the file; a custom field can also
    /// be named `custom:NAME`, and a name matching no header exactly may
    /// match one ignoring case. An unknown or repeated name is an error that
    /// lists the valid names.
    pub fn select(&self, spec: &str) -> Result<Columns, ExportError> {
        let mut cols = Vec::new();
        let mut headers = Vec::new();
        let mut taken = BTreeSet::new();
        for name in spec.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let Some(i) = self.find(name) else {
                return Err(ExportError::UnknownColumn {
                    name: name.to_string(),
                    valid: self.headers.join(", "),
                });
            };
            if !taken.insert(i) {
                return Err(ExportError::DuplicateColumn {
                    name: name.to_string(),
                });
            }
            cols.push(self.cols[i].clone());
            headers.push(self.headers[i].clone());
        }
        if cols.is_empty() {
            return Err(ExportError::NoColumns {
                valid: self.headers.join(", "),
            });
        }
        Ok(Columns {
            cols,
            headers,
            selected: true,
        })
    }

    fn find(&self, name: &str) -> Option<usize> {
        if let Some(i) = self.headers.iter().position(|h| h == name) {
            return Some(i);
        }
        if let Some(key) = name.strip_prefix(CUSTOM_PREFIX) {
            let custom = self
                .cols
                .iter()
                .position(|c| matches!(c, Column::Custom(k) if k == key));
            if custom.is_some() {
                return custom;
            }
        }
        let mut folded = self
            .headers
            .iter()
            .enumerate()
            .filter(|(_, h)| h.to_lowercase() == name.to_lowercase());
        match (folded.next(), folded.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    }

    /// The columns in order.
    pub fn columns(&self) -> &[Column] {
        &self.cols
    }

    /// The header cells in order.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// How many columns.
    pub fn len(&self) -> usize {
        self.cols.len()
    }

    /// True when there are no columns (never, for columns built here).
    pub fn is_empty(&self) -> bool {
        self.cols.is_empty()
    }

    /// True when narrowed by [`select`](Self::select).
    pub fn is_selection(&self) -> bool {
        self.selected
    }

    /// The cells of one row, in column order.
    pub fn cells<'a>(&'a self, row: &'a ExportRow) -> impl Iterator<Item = Cow<'a, str>> + 'a {
        self.cols.iter().map(move |c| c.value(row))
    }
}

/// The custom field names of some contacts: their union, sorted, so the
/// custom columns come out in a stable order whatever order rows arrive in.
///
/// For [`Columns::new`] when the rows are at hand (buffered, or read in a
/// first pass); a platform that lists its custom fields can be asked instead.
pub fn custom_field_names<'a, I>(contacts: I) -> Vec<String>
where
    I: IntoIterator<Item = &'a Contact>,
{
    let mut names = BTreeSet::new();
    for c in contacts {
        for key in c.custom.keys() {
            if !names.contains(key) {
                names.insert(key.clone());
            }
        }
    }
    names.into_iter().collect()
}

fn fixed_header(c: &Column) -> String {
    match c {
        Column::Id => ID.to_string(),
        Column::CreatedAt => CREATED_AT.to_string(),
        Column::UpdatedAt => UPDATED_AT.to_string(),
        Column::Field(f) => f.name().to_string(),
        Column::Custom(k) => k.clone(),
    }
}

/// Counts custom fields that rows carry but the columns leave out, so the
/// caller can say so instead of losing them silently.
#[derive(Debug, Default)]
pub(crate) struct Unlisted {
    listed: BTreeSet<String>,
    check: bool,
    missed: BTreeMap<String, u64>,
}

impl Unlisted {
    /// Watches for custom fields outside `columns` unless the columns were a
    /// deliberate selection.
    pub(crate) fn new(columns: &Columns) -> Self {
        let listed = columns
            .cols
            .iter()
            .filter_map(|c| match c {
                Column::Custom(k) => Some(k.clone()),
                _ => None,
            })
            .collect();
        Self {
            listed,
            check: !columns.selected,
            missed: BTreeMap::new(),
        }
    }

    /// Notes the custom fields of one row that have no column.
    pub(crate) fn observe(&mut self, row: &ExportRow) {
        if !self.check {
            return;
        }
        for (k, v) in &row.contact.custom {
            if !v.is_empty() && !self.listed.contains(k) {
                *self.missed.entry(k.clone()).or_default() += 1;
            }
        }
    }

    /// One warning per custom field left out.
    pub(crate) fn warnings(&self) -> Vec<String> {
        self.missed
            .iter()
            .map(|(k, n)| {
                format!("custom field {k:?} has a value in {n} row(s) but no column, so it was not exported")
            })
            .collect()
    }
}
