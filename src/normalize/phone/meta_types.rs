//! The types of the generated metadata table (`meta.rs`), apart from the
//! code that reads it (`fast.rs`): the table and its reader both depend on
//! them, and neither on the other's internals, so the modules form no cycle.
//! The generator (examples/gen_tables) writes values of these types; a
//! field changed here changes what it must write.

/// A number type's description: verbatim pattern (`^(?:…)$`), possible
/// lengths (empty = inherit the general ones, `[-1]` = no such numbers) and
/// lengths only dialable locally.
pub(super) struct D {
    pub p: Option<&'static str>,
    pub l: &'static [i32],
    pub lo: &'static [i32],
}

/// One region's metadata, mirroring libphonenumber's `PhoneMetadata`.
pub(super) struct M {
    pub id: &'static str,
    pub cc: i32,
    pub main: bool,
    pub ld: Option<&'static str>,
    pub idd: Option<&'static str>,
    pub npfp: Option<&'static str>,
    pub tr: Option<&'static str>,
    pub same_mf: bool,
    pub general: D,
    pub fixed: D,
    pub mobile: D,
    pub toll_free: D,
    pub premium: D,
    pub shared: D,
    pub personal: D,
    pub voip: D,
    pub pager: D,
    pub uan: D,
    pub voicemail: D,
}
