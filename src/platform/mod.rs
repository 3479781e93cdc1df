//! Platform adapters: one file per platform behind one trait.

use std::str::FromStr;

/// The four platforms waport talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    pub fn required_fields(self) -> &'static [&'static str] {
        match self {
            PlatformKind::Wazzup => &["name", "phone"],
            PlatformKind::Whaapy => &["phone"],
            PlatformKind::Wipsy => &["name"],
            PlatformKind::Wapiflow => &["first_name", "last_name", "phone"],
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
