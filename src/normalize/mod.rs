//! Normalization: phone numbers to E.164, e-mail addresses to their
//! canonical form, country names to ISO regions.

pub mod country;
mod country_aliases;
mod country_names;
pub mod email;
pub mod phone;
