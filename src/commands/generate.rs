//! `waport generate` (hidden): writes a realistic, messy contact file of N
//! rows for benchmarks. Big inputs are generated, never committed.
//!
//! The file looks like what Spanish-locale Excel saves: Windows-1252, `;`,
//! Spanish headers; phones of 16 countries in national, international,
//! WhatsApp-id and noisy forms; about 10% bad phones, 10% bad e-mails and
//! 5% repeats of an earlier contact written differently.

use crate::{Error, ExitStatus};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateConfig {
    /// Data rows to write.
    pub rows: u64,
    /// Output file (`-` for stdout).
    pub output: PathBuf,
    /// Random seed, so a benchmark input is reproducible.
    pub seed: u64,
    /// Write UTF-8 with `,` instead of Windows-1252 with `;`.
    pub utf8: bool,
}

/// A country: ISO code, Spanish name, calling code, national trunk prefix,
/// and a valid mobile national number shape (`#` = random digit).
const COUNTRIES: &[(&str, &str, &str, &str, &str)] = &[
    ("MX", "México", "52", "", "55########"),
    ("ES", "España", "34", "", "6########"),
    ("CO", "Colombia", "57", "", "310#######"),
    ("AR", "Argentina", "54", "0", "911########"),
    ("BR", "Brasil", "55", "0", "119########"),
    ("CL", "Chile", "56", "", "9########"),
    ("PE", "Perú", "51", "", "9########"),
    ("US", "Estados Unidos", "1", "1", "2122######"),
    ("RU", "Rusia", "7", "8", "9#########"),
    ("DE", "Alemania", "49", "0", "151########"),
    ("FR", "Francia", "33", "0", "6########"),
    ("GB", "Reino Unido", "44", "0", "7911######"),
    ("IT", "Italia", "39", "", "347#######"),
    ("IN", "India", "91", "0", "98########"),
    ("CN", "China", "86", "0", "138########"),
    ("VE", "Venezuela", "58", "0", "412#######"),
];

const FIRST: &[&str] = &[
    "José",
    "María",
    "Juan",
    "Ana",
    "Luis",
    "Carmen",
    "Jorge",
    "Lucía",
    "Pedro",
    "Sofía",
    "Andrés",
    "Valentina",
    "Iván",
    "Olga",
    "João",
    "Camila",
    "Ñaki",
    "Dmitri",
    "Zoë",
    "Raúl",
];
const LAST: &[&str] = &[
    "García",
    "Pérez",
    "Rodríguez",
    "López",
    "Martínez",
    "Sánchez",
    "Gómez",
    "Fernández",
    "Díaz",
    "Muñoz",
    "Álvarez",
    "Romero",
    "Núñez",
    "Ibáñez",
    "Petrov",
    "Silva",
    "Castaño",
];
const CITIES: &[&str] = &[
    "Ciudad de México",
    "Madrid",
    "Bogotá",
    "Buenos Aires",
    "São Paulo",
    "Santiago",
    "Lima",
    "Nueva York",
    "Moscú",
    "Berlín",
    "París",
    "Londres",
    "Roma",
    "Bombay",
    "Pekín",
    "Caracas",
];
const BAD_PHONES: &[&str] = &["55-12", "123", "n/a", "+99 1234", "0000000", "tel: ninguno"];
const BAD_EMAILS: &[&str] = &[
    "sin correo",
    "juan@",
    "ana@@correo.com",
    "pedro.gmail.com",
    "a..b@x.com",
];

fn fill(rng: &mut fastrand::Rng, shape: &str) -> String {
    shape
        .chars()
        .map(|c| {
            if c == '#' {
                char::from(b'0' + rng.u8(0..10))
            } else {
                c
            }
        })
        .collect()
}

/// Writes a phone in one of the forms people and spreadsheets produce.
fn render_phone(
    rng: &mut fastrand::Rng,
    c: &(&str, &str, &str, &str, &str),
    nsn: &str,
) -> (String, bool) {
    let (iso, _, cc, trunk, _) = *c;
    // (text, needs the country column)
    match rng.u8(0..10) {
        0 | 1 => (format!("+{cc} {} {}", &nsn[..3], &nsn[3..]), false),
        2 => (format!("{trunk}{nsn}"), true),
        3 => (format!("{cc}{nsn}"), false), // WhatsApp id
        4 => (format!("00{cc}{nsn}"), false),
        5 => (format!("'+{cc}{nsn}"), false),
        6 => (format!("{cc}{nsn}.0"), false),
        7 => (
            format!("({}{}) {}-{}", trunk, &nsn[..3], &nsn[3..6], &nsn[6..]),
            true,
        ),
        8 if iso == "MX" => (format!("+52 1 {nsn}"), false),
        8 => (format!("tel:+{cc}-{}-{}", &nsn[..3], &nsn[3..]), false),
        _ => (format!("+{cc}.{}.{}", &nsn[..4], &nsn[4..]), false),
    }
}

fn ascii_fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'Á' => 'a',
            'é' | 'É' => 'e',
            'í' | 'Í' => 'i',
            'ó' | 'Ó' => 'o',
            'ú' | 'Ú' => 'u',
            'ñ' | 'Ñ' => 'n',
            'ã' => 'a',
            'ë' => 'e',
            other => other.to_ascii_lowercase(),
        })
        .collect()
}

/// Runs `generate`.
pub fn run(cfg: GenerateConfig) -> Result<ExitStatus, Error> {
    let io_err = |source: std::io::Error| Error::Write {
        what: cfg.output.display().to_string(),
        source,
    };
    let sink: Box<dyn Write> = if cfg.output.as_os_str() == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(std::fs::File::create(&cfg.output).map_err(io_err)?)
    };
    let mut out = BufWriter::with_capacity(1 << 20, sink);
    let delim = if cfg.utf8 { ',' } else { ';' };
    let mut rng = fastrand::Rng::with_seed(cfg.seed);
    let mut earlier: Vec<(usize, String)> = Vec::new();
    let mut line = String::new();
    let mut bytes = Vec::new();
    let header = [
        "Nombre",
        "Apellidos",
        "Teléfono",
        "Correo electrónico",
        "País",
        "Ciudad",
        "Empresa",
        "Notas",
    ];
    line.push_str(&header.join(&delim.to_string()));
    line.push_str("\r\n");
    for i in 0..cfg.rows {
        let ci = rng.usize(0..COUNTRIES.len());
        let country = &COUNTRIES[ci];
        let first = FIRST[rng.usize(0..FIRST.len())];
        let last = LAST[rng.usize(0..LAST.len())];
        let repeat = !earlier.is_empty() && rng.u8(0..100) < 5;
        let (ci, nsn) = if repeat {
            earlier[rng.usize(0..earlier.len())].clone()
        } else {
            (ci, fill(&mut rng, country.4))
        };
        let country = &COUNTRIES[ci];
        let (phone, needs_country) = if rng.u8(0..100) < 10 {
            (
                BAD_PHONES[rng.usize(0..BAD_PHONES.len())].to_string(),
                false,
            )
        } else {
            render_phone(&mut rng, country, &nsn)
        };
        if !repeat && earlier.len() < 10_000 {
            earlier.push((ci, nsn));
        }
        let email = if rng.u8(0..100) < 10 {
            BAD_EMAILS[rng.usize(0..BAD_EMAILS.len())].to_string()
        } else if rng.u8(0..10) == 0 {
            String::new()
        } else {
            format!(
                "{}.{}{}@Ejemplo.COM",
                ascii_fold(first),
                ascii_fold(last),
                i
            )
        };
        let country_cell = if needs_country || rng.bool() {
            if rng.bool() { country.1 } else { country.0 }
        } else {
            ""
        };
        let notes = if rng.u8(0..20) == 0 {
            "\"Llamar después; prefiere \"\"WhatsApp\"\"\"".to_string()
        } else {
            String::new()
        };
        let fields = [
            first,
            last,
            &phone,
            &email,
            country_cell,
            CITIES[ci],
            if rng.bool() { "Acme S.A." } else { "" },
            &notes,
        ];
        for (k, f) in fields.iter().enumerate() {
            if k > 0 {
                line.push(delim);
            }
            line.push_str(f);
        }
        line.push_str("\r\n");
        if line.len() > 1 << 16 {
            flush(&mut out, &mut line, &mut bytes, cfg.utf8).map_err(io_err)?;
        }
    }
    flush(&mut out, &mut line, &mut bytes, cfg.utf8).map_err(io_err)?;
    out.flush().map_err(io_err)?;
    Ok(ExitStatus::Ok)
}

fn flush(
    out: &mut impl Write,
    line: &mut String,
    bytes: &mut Vec<u8>,
    utf8: bool,
) -> std::io::Result<()> {
    if utf8 {
        out.write_all(line.as_bytes())?;
    } else {
        bytes.clear();
        let (enc, _, _) = encoding_rs::WINDOWS_1252.encode(line);
        bytes.extend_from_slice(&enc);
        out.write_all(bytes)?;
    }
    line.clear();
    Ok(())
}
