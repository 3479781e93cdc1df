//! Column mapping: which input column feeds which contact field.
//!
//! Headers are recognised case- and accent-insensitively in English,
//! Spanish, Portuguese and Russian; a TOML mapping file (`--map`) overrides
//! any column.

use crate::model::contact::{Contact, FIELDS};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;

/// Where a column's values go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A canonical field (one of [`FIELDS`]).
    Field(&'static str),
    /// A custom field by name.
    Custom(String),
    /// Deliberately ignored.
    Skip,
}

impl Target {
    /// Whether this is the canonical field `name`.
    pub fn is_field(&self, name: &str) -> bool {
        matches!(self, Target::Field(f) if *f == name)
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Field(n) => f.write_str(n),
            Target::Custom(n) => write!(f, "custom:{n}"),
            Target::Skip => f.write_str("skip"),
        }
    }
}

/// How a column got its target, for `--show-mapping`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Recognised from the header text.
    Auto,
    /// Named in the mapping file.
    MapFile,
    /// Not recognised and not mapped: ignored.
    Unmapped,
}

/// One input column and where it goes.
#[derive(Debug, Clone)]
pub struct Column {
    /// Position in the record.
    pub index: usize,
    /// Header text as read.
    pub header: String,
    /// Where its values go ([`Target::Skip`] for ignored columns).
    pub target: Target,
    /// Why.
    pub origin: Origin,
    /// A note shown with the mapping (e.g. "read as the full name").
    pub note: Option<String>,
}

/// The phone, e-mail and country cells of one record (see [`Mapping::keys`]),
/// trimmed and with the formula guard undone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Keys<'a> {
    /// The first non-empty phone cell.
    pub phone: &'a str,
    /// The first non-empty e-mail cell.
    pub email: &'a str,
    /// The country cells, joined by a space when there are several.
    pub country: std::borrow::Cow<'a, str>,
}

/// The mapping for one input file.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// One entry per input column, in input order.
    pub columns: Vec<Column>,
    /// The columns [`Mapping::keys`] reads, in input order, worked out once
    /// so a row costs no comparison of field names.
    key_columns: Vec<(usize, KeyField)>,
}

/// The fields [`Mapping::keys`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyField {
    Phone,
    Email,
    Country,
}

/// A mapping file or header problem.
#[derive(Debug, Error)]
pub enum MappingError {
    /// The mapping file could not be read.
    #[error("cannot read mapping file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The mapping file is not valid TOML of the expected shape.
    #[error("mapping file {path} is not valid: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// The parser's message.
        message: String,
    },
    /// A target name that is not a field, `custom:NAME` or `skip`.
    #[error(
        "mapping file {path} maps column \"{column}\" to unknown field \"{target}\"; valid targets are: {}, custom:NAME, skip",
        FIELDS.join(", ")
    )]
    UnknownTarget {
        /// The file.
        path: String,
        /// The column named.
        column: String,
        /// The bad target.
        target: String,
    },
    /// The mapping file names a column the input does not have.
    #[error(
        "mapping file {path} names column \"{column}\", which the input does not have (its columns: {available})"
    )]
    UnknownColumn {
        /// The file.
        path: String,
        /// The column named.
        column: String,
        /// The input's columns, quoted and comma-separated.
        available: String,
    },
}

/// The parsed `--map` file.
///
/// Other tables (platform settings such as Wipsy tag ids) may live in the
/// same file; they are read by whoever needs them and ignored here.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MapFile {
    /// Input header → target name.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Where it was read from, for messages.
    #[serde(skip)]
    pub path: String,
}

impl MapFile {
    /// Reads and parses a mapping file.
    pub fn load(path: &Path) -> Result<MapFile, MappingError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Io {
            path: shown.clone(),
            source,
        })?;
        let mut file: MapFile = toml::from_str(&text).map_err(|e| MappingError::Syntax {
            path: shown.clone(),
            message: e.message().to_string(),
        })?;
        file.path = shown;
        Ok(file)
    }
}

/// Undoes the formula-injection guard of CSV exports, reports and rejects
/// files (waport's own and other tools'): see [`crate::export::unguard`].
pub fn unguard(value: &str) -> &str {
    crate::export::unguard(value)
}

/// Parses a target name as written in a mapping file.
pub fn parse_target(name: &str) -> Option<Target> {
    let name = name.trim();
    if name.eq_ignore_ascii_case("skip") {
        return Some(Target::Skip);
    }
    if let Some(custom) = name.strip_prefix("custom:") {
        let custom = custom.trim();
        return (!custom.is_empty()).then(|| Target::Custom(custom.to_string()));
    }
    let lower = name.to_ascii_lowercase();
    FIELDS
        .iter()
        .find(|f| **f == lower)
        .map(|f| Target::Field(f))
}

/// Folds a header for comparison: lowercase, accents removed, every run of
/// non-alphanumeric characters turned into one space.
pub fn fold_header(header: &str) -> String {
    let mut out = String::with_capacity(header.len());
    let mut gap = false;
    for c in header.chars().flat_map(char::to_lowercase) {
        let c = fold_accent(c);
        if c.is_alphanumeric() {
            if gap && !out.is_empty() {
                out.push(' ');
            }
            gap = false;
            out.push(c);
        } else {
            gap = true;
        }
    }
    out
}

fn fold_accent(c: char) -> char {
    match c {
        'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ā' => 'a',
        'é' | 'è' | 'ê' | 'ë' | 'ē' => 'e',
        'í' | 'ì' | 'î' | 'ï' | 'ī' => 'i',
        'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' | 'ō' => 'o',
        'ú' | 'ù' | 'û' | 'ü' | 'ū' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        'ý' | 'ÿ' => 'y',
        'ё' => 'е',
        'й' => 'и',
        other => other,
    }
}

/// Known header spellings (already folded) for each canonical field.
///
/// Order matters only inside a field; across fields every spelling is
/// unique.
const SYNONYMS: &[(&str, &[&str])] = &[
    (
        "phone",
        &[
            "phone",
            "phone number",
            "phone no",
            "telephone",
            "telephone number",
            "tel",
            "contact phone",
            "contact phone number",
            "contact number",
            "phone numbers",
            "mobile phone number",
            "cell number",
            "cell phone number",
            "mobile",
            "mobile phone",
            "mobile number",
            "cell",
            "cell phone",
            "cellphone",
            "whatsapp",
            "whatsapp number",
            "whatsapp id",
            "wa id",
            "wa number",
            "msisdn",
            "number",
            "telefono",
            "telefonos",
            "telefono movil",
            "telefono celular",
            "numero",
            "numero de telefono",
            "numero telefono",
            "numero de celular",
            "numero de whatsapp",
            "celular",
            "movil",
            "cel",
            "telefone",
            "telefone celular",
            "fone",
            "numero de telefone",
            "contato",
            "телефон",
            "мобильный",
            "мобильный телефон",
            "номер",
            "номер телефона",
            "сотовый",
            "whatsapp телефон",
            "ватсап",
            "вотсап",
        ],
    ),
    (
        "email",
        &[
            "email",
            "e mail",
            "mail",
            "email address",
            "e mail address",
            "correo",
            "correo electronico",
            "correo e",
            "e correo",
            "email correo",
            "endereco de email",
            "endereco de e mail",
            "почта",
            "электронная почта",
            "эл почта",
            "e mail почта",
            "емейл",
            "имейл",
        ],
    ),
    (
        "first_name",
        &[
            "first name",
            "firstname",
            "given name",
            "forename",
            "nombre",
            "nombres",
            "primer nombre",
            "nome",
            "primeiro nome",
            "имя",
        ],
    ),
    (
        "last_name",
        &[
            "last name",
            "lastname",
            "surname",
            "family name",
            "apellido",
            "apellidos",
            "primer apellido",
            "sobrenome",
            "ultimo nome",
            "apelido",
            "фамилия",
        ],
    ),
    (
        "name",
        &[
            "name",
            "full name",
            "fullname",
            "contact name",
            "contact",
            "nombre completo",
            "nombre y apellido",
            "nombre y apellidos",
            "contacto",
            "cliente",
            "nome completo",
            "фио",
            "ф и о",
            "полное имя",
            "имя и фамилия",
            "контакт",
            "клиент",
        ],
    ),
    ("country", &["country", "pais", "nacionalidad", "страна"]),
    (
        "city",
        &[
            "city",
            "town",
            "ciudad",
            "localidad",
            "municipio",
            "poblacion",
            "cidade",
            "город",
        ],
    ),
    (
        "state",
        &[
            "state",
            "province",
            "region",
            "county",
            "estado",
            "provincia",
            "departamento",
            "comunidad autonoma",
            "uf",
            "область",
            "регион",
            "край",
        ],
    ),
    (
        "postal_code",
        &[
            "postal code",
            "postcode",
            "post code",
            "zip",
            "zip code",
            "zipcode",
            "codigo postal",
            "cp",
            "c p",
            "cep",
            "индекс",
            "почтовый индекс",
        ],
    ),
    (
        "address",
        &[
            "address",
            "street",
            "street address",
            "address 1",
            "address 2",
            "direccion",
            "domicilio",
            "calle",
            "endereco",
            "адрес",
        ],
    ),
    (
        "company",
        &[
            "company",
            "company name",
            "organization",
            "organisation",
            "business",
            "empresa",
            "compania",
            "razon social",
            "negocio",
            "companhia",
            "компания",
            "организация",
        ],
    ),
    (
        "notes",
        &[
            "notes",
            "note",
            "comments",
            "comment",
            "description",
            "notas",
            "nota",
            "comentarios",
            "comentario",
            "observaciones",
            "observacion",
            "observacoes",
            "заметки",
            "примечание",
            "примечания",
            "комментарий",
        ],
    ),
    (
        "tags",
        &[
            "tags",
            "tag",
            "labels",
            "label",
            "etiquetas",
            "etiqueta",
            "теги",
            "метки",
            "тег",
        ],
    ),
    (
        "external_id",
        &[
            "external id",
            "external_id",
            "externalid",
            "customer id",
            "client id",
            "contact id",
            "id cliente",
            "id externo",
            "codigo cliente",
            "codigo de cliente",
            "внешний id",
        ],
    ),
];

/// Recognises one header, or `None` when it means nothing to waport.
pub fn recognise(header: &str) -> Option<Target> {
    if let Some(t) = header.trim().strip_prefix("custom:") {
        let t = t.trim();
        return (!t.is_empty()).then(|| Target::Custom(t.to_string()));
    }
    let folded = fold_header(header);
    SYNONYMS
        .iter()
        .find(|(_, names)| names.contains(&folded.as_str()))
        .map(|(field, _)| Target::Field(field))
}

impl Mapping {
    /// Builds the mapping for `headers`, letting `map_file` override.
    pub fn infer(headers: &[String], map_file: Option<&MapFile>) -> Result<Mapping, MappingError> {
        let mut columns: Vec<Column> = headers
            .iter()
            .enumerate()
            .map(|(index, header)| {
                let (target, origin) = match recognise(header) {
                    Some(t) => (t, Origin::Auto),
                    None => (Target::Skip, Origin::Unmapped),
                };
                Column {
                    index,
                    header: header.clone(),
                    target,
                    origin,
                    note: None,
                }
            })
            .collect();
        if let Some(file) = map_file {
            for (column, target_name) in &file.columns {
                let target =
                    parse_target(target_name).ok_or_else(|| MappingError::UnknownTarget {
                        path: file.path.clone(),
                        column: column.clone(),
                        target: target_name.clone(),
                    })?;
                let wanted = fold_header(column);
                let exact = columns
                    .iter()
                    .position(|c| c.header.trim() == column.trim());
                let pos = exact.or_else(|| {
                    columns
                        .iter()
                        .position(|c| fold_header(&c.header) == wanted)
                });
                let Some(pos) = pos else {
                    return Err(MappingError::UnknownColumn {
                        path: file.path.clone(),
                        column: column.clone(),
                        available: headers
                            .iter()
                            .map(|h| format!("\"{h}\""))
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                };
                columns[pos].target = target;
                columns[pos].origin = Origin::MapFile;
            }
        }
        let has = |cols: &[Column], f: &str| cols.iter().any(|c| c.target.is_field(f));
        // A bare "id" column (as in waport's own exports) is the source
        // system's id unless the file also has an explicit external id.
        if !has(&columns, "external_id")
            && let Some(c) = columns
                .iter_mut()
                .find(|c| c.origin == Origin::Unmapped && fold_header(&c.header) == "id")
        {
            c.target = Target::Field("external_id");
            c.origin = Origin::Auto;
        }
        // Spanish and Portuguese files often have a single "Nombre"/"Nome"
        // column holding the whole name: with no last-name column, read it
        // as the full name so it can be split for platforms that need both.
        if !has(&columns, "last_name") && !has(&columns, "name") {
            let firsts: Vec<usize> = columns
                .iter()
                .filter(|c| c.origin == Origin::Auto && c.target == Target::Field("first_name"))
                .map(|c| c.index)
                .collect();
            if let [only] = firsts[..] {
                columns[only].target = Target::Field("name");
                columns[only].note = Some("no last-name column: read as the full name".into());
            }
        }
        // A second column for a single-valued field (phone, email) is a
        // fallback used when the first is empty.
        for field in ["phone", "email"] {
            let mut seen = false;
            for c in columns.iter_mut() {
                if c.target.is_field(field) {
                    if seen {
                        c.note = Some(format!("used when the first {field} column is empty"));
                    }
                    seen = true;
                }
            }
        }
        let key_columns = columns
            .iter()
            .filter_map(|c| match c.target {
                Target::Field("phone") => Some((c.index, KeyField::Phone)),
                Target::Field("email") => Some((c.index, KeyField::Email)),
                Target::Field("country") => Some((c.index, KeyField::Country)),
                _ => None,
            })
            .collect();
        Ok(Mapping {
            columns,
            key_columns,
        })
    }

    /// Whether some column feeds `field`.
    pub fn has_field(&self, field: &str) -> bool {
        self.columns.iter().any(|c| c.target.is_field(field))
    }

    /// Builds the (not yet normalized) contact for one record.
    pub fn apply(&self, fields: &crate::source::Fields) -> Contact {
        let mut contact = Contact::default();
        for col in &self.columns {
            let Some(value) = fields.get(col.index) else {
                continue;
            };
            let value = unguard(value);
            match &col.target {
                Target::Skip => {}
                Target::Custom(name) => {
                    let v = value.trim();
                    if !v.is_empty() {
                        contact.custom.insert(name.clone(), v.to_string());
                    }
                }
                Target::Field(f @ ("phone" | "email")) => {
                    let current = if *f == "phone" {
                        &contact.phone
                    } else {
                        &contact.email
                    };
                    if current.trim().is_empty() {
                        let v = value.trim().to_string();
                        if *f == "phone" {
                            contact.phone = v;
                        } else {
                            contact.email = v;
                        }
                    }
                }
                Target::Field(f) => {
                    contact.set(f, value);
                }
            }
        }
        contact
    }

    /// What [`Mapping::apply`] would put in phone, e-mail and country,
    /// borrowed from the record: all `validate` needs of a row without a
    /// platform. Copying the other fields into a [`Contact`] was a tenth of
    /// its run time.
    pub fn keys<'a>(&self, fields: &'a crate::source::Fields) -> Keys<'a> {
        let mut keys = Keys::default();
        for &(index, field) in &self.key_columns {
            let Some(value) = fields.get(index) else {
                continue;
            };
            let value = unguard(value).trim();
            match field {
                KeyField::Phone if keys.phone.is_empty() => keys.phone = value,
                KeyField::Email if keys.email.is_empty() => keys.email = value,
                // As Contact::set joins two columns mapped to one field.
                KeyField::Country if keys.country.is_empty() => keys.country = value.into(),
                KeyField::Country if !value.is_empty() => {
                    keys.country = format!("{} {value}", keys.country).into();
                }
                _ => {}
            }
        }
        keys
    }

    /// The mapping as a table for `--show-mapping`.
    pub fn describe(&self) -> String {
        let width = self
            .columns
            .iter()
            .map(|c| c.header.chars().count())
            .max()
            .unwrap_or(0)
            .max(6);
        let mut out = String::new();
        let mut ignored = Vec::new();
        for c in &self.columns {
            if c.target == Target::Skip {
                ignored.push(c);
                continue;
            }
            let how = match c.origin {
                Origin::Auto => "auto",
                Origin::MapFile => "map file",
                Origin::Unmapped => "",
            };
            let pad = width - c.header.chars().count();
            out.push_str(&format!(
                "  {}{} -> {} ({how}{})\n",
                c.header,
                " ".repeat(pad),
                c.target,
                c.note
                    .as_deref()
                    .map(|n| format!("; {n}"))
                    .unwrap_or_default()
            ));
        }
        if ignored.is_empty() {
            out.push_str("ignored columns: none\n");
        } else {
            out.push_str("ignored columns:\n");
            for c in ignored {
                let why = if c.origin == Origin::MapFile {
                    "skip in map file"
                } else {
                    "not recognised; map it with --map"
                };
                out.push_str(&format!("  {} ({why})\n", c.header));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn recognises_headers_in_four_languages() {
        for (header, field) in [
            ("Teléfono", "phone"),
            ("TELEFONO", "phone"),
            ("Tel.", "phone"),
            ("Celular", "phone"),
            ("Móvil", "phone"),
            ("WhatsApp", "phone"),
            ("Mobile", "phone"),
            ("Contact Phone Number", "phone"),
            ("Телефон", "phone"),
            ("Correo electrónico", "email"),
            ("E-mail", "email"),
            ("Nombre completo", "name"),
            ("Full name", "name"),
            ("Apellidos", "last_name"),
            ("Sobrenome", "last_name"),
            ("Фамилия", "last_name"),
            ("Имя", "first_name"),
            ("País", "country"),
            ("Ciudad", "city"),
            ("Empresa", "company"),
            ("Notas", "notes"),
            ("Etiquetas", "tags"),
        ] {
            assert_eq!(recognise(header), Some(Target::Field(field)), "{header}");
        }
        assert_eq!(recognise("Puntaje"), None);
    }

    #[test]
    fn lone_first_name_column_is_read_as_full_name() {
        let m = Mapping::infer(&h(&["Nombre", "Teléfono"]), None).unwrap();
        assert_eq!(m.columns[0].target, Target::Field("name"));
        let m = Mapping::infer(&h(&["Nombre", "Apellido", "Teléfono"]), None).unwrap();
        assert_eq!(m.columns[0].target, Target::Field("first_name"));
    }

    #[test]
    fn map_file_overrides_and_rejects_unknown_targets() {
        let mut file = MapFile::default();
        file.columns.insert("Cel. Personal".into(), "phone".into());
        file.columns.insert("Puntaje".into(), "custom:score".into());
        file.columns.insert("Email".into(), "skip".into());
        let m = Mapping::infer(&h(&["Cel. Personal", "Puntaje", "Email"]), Some(&file)).unwrap();
        assert_eq!(m.columns[0].target, Target::Field("phone"));
        assert_eq!(m.columns[1].target, Target::Custom("score".into()));
        assert_eq!(m.columns[2].target, Target::Skip);
        file.columns.insert("Puntaje".into(), "telefono".into());
        let err =
            Mapping::infer(&h(&["Cel. Personal", "Puntaje", "Email"]), Some(&file)).unwrap_err();
        assert!(err.to_string().contains("first_name, last_name"), "{err}");
    }

    #[test]
    fn second_phone_column_is_a_fallback() {
        let m = Mapping::infer(&h(&["Teléfono", "Celular", "Etiquetas"]), None).unwrap();
        let c = m.apply(&h(&["", "5512345678", "vip; lead|frío"]).into());
        assert_eq!(c.phone, "5512345678");
        assert_eq!(c.tags, vec!["vip", "lead", "frío"]);
        let c = m.apply(&h(&["111", "222", ""]).into());
        assert_eq!(c.phone, "111");
    }

    #[test]
    fn keys_are_what_apply_puts_in_phone_email_and_country() {
        let m = Mapping::infer(
            &h(&[
                "Teléfono",
                "Celular",
                "País",
                "Email",
                "Correo",
                "Country",
                "Nombre",
            ]),
            None,
        )
        .unwrap();
        let rows: [&[&str]; 5] = [
            &[
                "",
                " '+5512345678",
                "México",
                " Ana@Example.com ",
                "",
                "",
                "Ana",
            ],
            &["111", "222", "", "", "b@x.io", "ES", "Luis"],
            &["  ", "", "", "", "", "", ""],
            &["'=1", "", "Perú", "x@y.pe", "z@y.pe", " PE ", "Eva"],
            &["5", "6"],
        ];
        for row in rows {
            let fields: crate::source::Fields = row.iter().collect();
            let c = m.apply(&fields);
            let k = m.keys(&fields);
            assert_eq!(
                (k.phone, k.email, &*k.country),
                (&*c.phone, &*c.email, &*c.country),
                "{row:?}"
            );
        }
    }
}
