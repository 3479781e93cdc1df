//! The kinds every stage names: which platform, which entity, which write
//! mode. They parse from the command line through clap's `ValueEnum`, so
//! an unknown value is a usage error, never a silent default.

use super::Field;
use std::str::FromStr;

/// The four platforms waport talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
#[value(rename_all = "lower")]
pub enum PlatformKind {
    /// Wazzup (api.wazzup24.com/v3).
    Wazzup,
    /// Whaapy (api.whaapy.com).
    Whaapy,
    /// Wipsy (api.getwipsy.com).
    Wipsy,
    /// WapiFlow (wapiflow.cloud).
    Wapiflow,
}

impl PlatformKind {
    /// All platforms, in the order shown to users.
    pub const ALL: [PlatformKind; 4] = [
        PlatformKind::Wazzup,
        PlatformKind::Whaapy,
        PlatformKind::Wipsy,
        PlatformKind::Wapiflow,
    ];

    /// The lowercase name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            PlatformKind::Wazzup => "wazzup",
            PlatformKind::Whaapy => "whaapy",
            PlatformKind::Wipsy => "wipsy",
            PlatformKind::Wapiflow => "wapiflow",
        }
    }

    /// Contact fields the platform refuses a contact without.
    ///
    /// Whaapy: `phone_number` (seed 001). Wipsy: `name` (seed 000).
    /// WapiFlow: firstname, lastname, mobile (seed 002). Wazzup: `name`
    /// and a WhatsApp `chatId` (public docs).
    pub fn required_fields(self) -> &'static [Field] {
        match self {
            PlatformKind::Wazzup => &[Field::Name, Field::Phone],
            PlatformKind::Whaapy => &[Field::Phone],
            PlatformKind::Wipsy => &[Field::Name],
            PlatformKind::Wapiflow => &[Field::FirstName, Field::LastName, Field::Phone],
        }
    }
}

impl std::fmt::Display for PlatformKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PlatformKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PlatformKind::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown platform \"{s}\" (expected wazzup, whaapy, wipsy or wapiflow)")
            })
    }
}

/// What is imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, clap::ValueEnum)]
pub enum Entity {
    /// Contacts (customers).
    #[default]
    Contacts,
    /// Users: the account's staff (Wazzup only).
    Users,
}

impl Entity {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Entity::Contacts => "contacts",
            Entity::Users => "users",
        }
    }
}

impl FromStr for Entity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "contacts" | "contact" => Ok(Entity::Contacts),
            "users" | "user" => Ok(Entity::Users),
            other => Err(format!(
                "unknown entity \"{other}\" (expected contacts or users)"
            )),
        }
    }
}

/// What to do with a contact the platform already has.
///
/// No `Default`: the command line's default (`upsert`) is the only one,
/// so no silent fallback can flip a run's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum WriteMode {
    /// Create new contacts; leave existing ones alone (`exists`).
    Create,
    /// Create new contacts and update existing ones.
    Upsert,
    /// Update existing contacts only; the others are `skipped` with reason
    /// `not_found` (what Data Loader and HubSpot call update).
    Update,
}

impl WriteMode {
    /// The name used on the command line and in the journal.
    pub fn name(self) -> &'static str {
        match self {
            WriteMode::Create => "create",
            WriteMode::Upsert => "upsert",
            WriteMode::Update => "update",
        }
    }
}

impl FromStr for WriteMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "create" => Ok(WriteMode::Create),
            "upsert" => Ok(WriteMode::Upsert),
            "update" => Ok(WriteMode::Update),
            other => Err(format!(
                "unknown mode \"{other}\" (expected create, upsert or update)"
            )),
        }
    }
}
