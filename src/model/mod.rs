//! The domain types every stage shares: the contact and its fields, a row's status, the
//! platform, entity and write mode, and the item/outcome pair of the write
//! half. This module depends on nothing else in the crate; every other
//! module points down to it.

pub mod contact;
mod field;
mod item;
mod kinds;
mod status;

pub use contact::Contact;
pub use field::Field;
pub use item::{Item, ItemOutcome};
pub use kinds::{Entity, PlatformKind, WriteMode};
pub use status::Status;
