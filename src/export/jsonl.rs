//! The JSONL writer: one JSON object per line.
//!
//! A row whose `raw` is a JSON object is written exactly as the platform
//! sent it: JSONL is the lossless export, for backups, `jq` and moving data
//! between systems that speak the platform's own fields, so nothing is
//! renamed, dropped or added. The column selection does not apply to it.
//!
//! A row without a platform object (`raw` null, or not an object) is written
//! as the canonical contact: the fields of [`Contact`](crate::model::Contact)
//! plus `id`, `created_at` and `updated_at`, and the odd non-object `raw`
//! under `raw`, so each line is still one object.

use super::sink::Sink;
use super::{ContactWriter, ExportError, ExportRow};
use serde_json::Value;
use std::io::Write;
use std::path::Path;

/// Writes rows as JSON lines.
pub(crate) struct JsonlWriter {
    sink: Sink,
    shown: String,
    rows: u64,
}

impl JsonlWriter {
    /// Opens the destination.
    pub(crate) fn create(path: &Path) -> Result<Self, ExportError> {
        let sink = Sink::open(path)?;
        Ok(Self {
            shown: sink.shown().to_string(),
            sink,
            rows: 0,
        })
    }

    fn json_error(&self, source: serde_json::Error) -> ExportError {
        ExportError::Json {
            path: self.shown.clone(),
            source,
        }
    }
}

/// The canonical form of a row without a platform object.
fn canonical(row: &ExportRow) -> Result<Value, serde_json::Error> {
    let mut value = serde_json::to_value(&row.contact)?;
    if let Value::Object(map) = &mut value {
        map.insert("id".into(), Value::String(row.remote_id.clone()));
        let date = |d: &Option<String>| d.clone().map_or(Value::Null, Value::String);
        map.insert("created_at".into(), date(&row.created_at));
        map.insert("updated_at".into(), date(&row.updated_at));
        if !row.raw.is_null() {
            map.insert("raw".into(), row.raw.clone());
        }
    }
    Ok(value)
}

impl ContactWriter for JsonlWriter {
    fn write(&mut self, row: &ExportRow) -> Result<(), ExportError> {
        let result = if row.raw.is_object() {
            serde_json::to_writer(&mut self.sink, &row.raw)
        } else {
            canonical(row).and_then(|v| serde_json::to_writer(&mut self.sink, &v))
        };
        result.map_err(|e| self.json_error(e))?;
        self.sink
            .write_all(b"\n")
            .map_err(|source| ExportError::Write {
                path: self.shown.clone(),
                source,
            })?;
        self.rows += 1;
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<u64, ExportError> {
        let rows = self.rows;
        self.sink.commit()?;
        Ok(rows)
    }
}
