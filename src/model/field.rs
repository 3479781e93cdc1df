//! The canonical contact fields a column maps to and a platform requires,
//! as one type: the mapping, the platforms' required fields, the export
//! columns and the report's messages all name a field through it.

use std::str::FromStr;

/// A canonical [`Contact`](super::Contact) field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// Given name.
    FirstName,
    /// Family name(s).
    LastName,
    /// Full name as one string.
    Name,
    /// Phone.
    Phone,
    /// E-mail.
    Email,
    /// Country.
    Country,
    /// City.
    City,
    /// State, province or region.
    State,
    /// Postal code.
    PostalCode,
    /// Street address.
    Address,
    /// Company or organisation.
    Company,
    /// Free-text notes.
    Notes,
    /// Tags.
    Tags,
    /// The identifier the source system gave the contact.
    ExternalId,
}

impl Field {
    /// Every field, in the order shown to users.
    pub const ALL: [Field; 14] = [
        Field::FirstName,
        Field::LastName,
        Field::Name,
        Field::Phone,
        Field::Email,
        Field::Country,
        Field::City,
        Field::State,
        Field::PostalCode,
        Field::Address,
        Field::Company,
        Field::Notes,
        Field::Tags,
        Field::ExternalId,
    ];

    /// The field's name in mapping files, report reasons and export
    /// headers (`first_name`, `postal_code`, …).
    pub fn name(self) -> &'static str {
        match self {
            Field::FirstName => "first_name",
            Field::LastName => "last_name",
            Field::Name => "name",
            Field::Phone => "phone",
            Field::Email => "email",
            Field::Country => "country",
            Field::City => "city",
            Field::State => "state",
            Field::PostalCode => "postal_code",
            Field::Address => "address",
            Field::Company => "company",
            Field::Notes => "notes",
            Field::Tags => "tags",
            Field::ExternalId => "external_id",
        }
    }

    /// Whether the field is part of a postal address (read from one
    /// address group of a file with several).
    pub fn is_address(self) -> bool {
        matches!(
            self,
            Field::Country | Field::City | Field::State | Field::PostalCode | Field::Address
        )
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Field {
    type Err = String;
    /// Reads a field name, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Field::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown field \"{s}\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back_as_its_field() {
        for f in Field::ALL {
            assert_eq!(f.name().parse::<Field>(), Ok(f));
            assert_eq!(f.name().to_uppercase().parse::<Field>(), Ok(f));
        }
        assert!("phone_number".parse::<Field>().is_err());
    }
}
