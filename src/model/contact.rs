//! The canonical contact: what every reader maps into and every platform
//! adapter maps out of.

use super::Field;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
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

impl Contact {
    /// Sets a canonical field.
    ///
    /// Tags are split on `,` `;` `|` because every CRM export joins them with
    /// one of those.
    pub fn set(&mut self, field: Field, value: &str) {
        let Some(slot) = self.text_mut(field) else {
            for t in value.split([',', ';', '|']) {
                let t = t.trim();
                if !t.is_empty() && !self.tags.iter().any(|x| x == t) {
                    self.tags.push(t.to_string());
                }
            }
            return;
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
    }

    /// Reads a canonical field (tags joined with `;`).
    pub fn get(&self, field: Field) -> Cow<'_, str> {
        match self.text(field) {
            Some(text) => Cow::Borrowed(text),
            None => Cow::Owned(self.tags.join(";")),
        }
    }

    /// Whether the field holds something other than blanks.
    pub fn is_filled(&self, field: Field) -> bool {
        match self.text(field) {
            Some(text) => !text.trim().is_empty(),
            None => !self.tags.is_empty(),
        }
    }

    /// A text field; `None` for `Tags`, the one list.
    fn text(&self, field: Field) -> Option<&String> {
        Some(match field {
            Field::FirstName => &self.first_name,
            Field::LastName => &self.last_name,
            Field::Name => &self.name,
            Field::Phone => &self.phone,
            Field::Email => &self.email,
            Field::Country => &self.country,
            Field::City => &self.city,
            Field::State => &self.state,
            Field::PostalCode => &self.postal_code,
            Field::Address => &self.address,
            Field::Company => &self.company,
            Field::Notes => &self.notes,
            Field::ExternalId => &self.external_id,
            Field::Tags => return None,
        })
    }

    /// The slot of a text field; `None` for `Tags`, the one list.
    fn text_mut(&mut self, field: Field) -> Option<&mut String> {
        Some(match field {
            Field::FirstName => &mut self.first_name,
            Field::LastName => &mut self.last_name,
            Field::Name => &mut self.name,
            Field::Phone => &mut self.phone,
            Field::Email => &mut self.email,
            Field::Country => &mut self.country,
            Field::City => &mut self.city,
            Field::State => &mut self.state,
            Field::PostalCode => &mut self.postal_code,
            Field::Address => &mut self.address,
            Field::Company => &mut self.company,
            Field::Notes => &mut self.notes,
            Field::ExternalId => &mut self.external_id,
            Field::Tags => return None,
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
