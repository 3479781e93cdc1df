//! The canonical contact: what every reader maps into and every platform
//! adapter maps out of.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A contact in waport's own terms, independent of any platform.
///
/// Absent text fields are empty strings: the data comes from spreadsheets,
/// where "empty" and "missing" are the same thing, and an `Option` everywhere
/// would only add noise.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Given name.
    pub first_name: String,
    /// Family name(s).
    pub last_name: String,
    /// Full name as one string.
    pub name: String,
    /// Phone in E.164 (`+5215512345678`) once normalized; raw before.
    pub phone: String,
    /// E-mail, domain lowercased once normalized.
    pub email: String,
    /// Country as given in the file (name or ISO code).
    pub country: String,
    /// City.
    pub city: String,
    /// State, province or region.
    pub state: String,
    /// Postal code.
    pub postal_code: String,
    /// Street address.
    pub address: String,
    /// Company or organisation.
    pub company: String,
    /// Free-text notes.
    pub notes: String,
    /// Tags, already split.
    pub tags: Vec<String>,
    /// The identifier the source system gave this contact.
    pub external_id: String,
    /// Custom fields by name (the part after `custom:` in a mapping).
    pub custom: BTreeMap<String, String>,
}

/// The canonical field names a column can map to, in the order they are
/// shown to users.
pub const FIELDS: &[&str] = &[
    "first_name",
    "last_name",
    "name",
    "phone",
    "email",
    "country",
    "city",
    "state",
    "postal_code",
    "address",
    "company",
    "notes",
    "tags",
    "external_id",
];

impl Contact {
    /// Sets a canonical field by name; returns false for an unknown name.
    ///
    /// Tags are split on `,` `;` `|` because every CRM export joins them with
    /// one of those.
    pub fn set(&mut self, field: &str, value: &str) -> bool {
        let slot = match field {
            "first_name" => &mut self.first_name,
            "last_name" => &mut self.last_name,
            "name" => &mut self.name,
            "phone" => &mut self.phone,
            "email" => &mut self.email,
            "country" => &mut self.country,
            "city" => &mut self.city,
            "state" => &mut self.state,
            "postal_code" => &mut self.postal_code,
            "address" => &mut self.address,
            "company" => &mut self.company,
            "notes" => &mut self.notes,
            "external_id" => &mut self.external_id,
            "tags" => {
                for t in value.split([',', ';', '|']) {
                    let t = t.trim();
                    if !t.is_empty() && !self.tags.iter().any(|x| x == t) {
                        self.tags.push(t.to_string());
                    }
                }
                return true;
            }
            _ => return false,
        };
        let value = value.trim();
        if slot.is_empty() {
            slot.push_str(value);
        } else if !value.is_empty() {
            // Two columns mapped to one field (e.g. "Address 1", "Address 2"):
            // keep both rather than silently dropping one.
            slot.push(' ');
            slot.push_str(value);
        }
        true
    }

    /// Reads a canonical field by name (tags joined with `;`).
    pub fn get(&self, field: &str) -> Option<String> {
        Some(match field {
            "first_name" => self.first_name.clone(),
            "last_name" => self.last_name.clone(),
            "name" => self.name.clone(),
            "phone" => self.phone.clone(),
            "email" => self.email.clone(),
            "country" => self.country.clone(),
            "city" => self.city.clone(),
            "state" => self.state.clone(),
            "postal_code" => self.postal_code.clone(),
            "address" => self.address.clone(),
            "company" => self.company.clone(),
            "notes" => self.notes.clone(),
            "external_id" => self.external_id.clone(),
            "tags" => self.tags.join(";"),
            _ => return None,
        })
    }

    /// Fills `name` from first/last, or first/last from `name`, so platforms
    /// that need one form or the other both get what they need.
    ///
    /// A full name splits at its first space: "María José García" gives
    /// first "María", last "José García". That is wrong for compound given
    /// names, but no rule is right for all of them and the platforms keep
    /// the full name too where they have one.
    pub fn complete_names(&mut self) {
        if self.name.is_empty() {
            let joined = format!("{} {}", self.first_name, self.last_name);
            self.name = joined.trim().to_string();
        } else if self.first_name.is_empty() && self.last_name.is_empty() {
            let full = self.name.trim();
            match full.split_once(char::is_whitespace) {
                Some((first, last)) => {
                    self.first_name = first.to_string();
                    self.last_name = last.trim().to_string();
                }
                None => self.first_name = full.to_string(),
            }
        }
    }
}
