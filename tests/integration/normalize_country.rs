//! Country cells to ISO alpha-2: codes, and names in English, Spanish,
//! Portuguese and Russian, whatever the case and accents.

use waport::normalize::country::region_code;

#[test]
fn codes_and_names() {
    for (text, want) in [
        ("MX", "MX"),
        ("mx", "MX"),
        ("MEX", "MX"),
        ("México", "MX"),
        ("mexico", "MX"),
        ("  MÉXICO ", "MX"),
        ("Estados Unidos", "US"),
        ("EE.UU.", "US"),
        ("USA", "US"),
        ("United States of America", "US"),
        ("España", "ES"),
        ("espana", "ES"),
        ("Spain", "ES"),
        ("Espanha", "ES"),
        ("Россия", "RU"),
        ("Российская Федерация", "RU"),
        ("Rusia", "RU"),
        ("Brasil", "BR"),
        ("Brazil", "BR"),
        ("BRA", "BR"),
        ("Perú", "PE"),
        ("Colombia", "CO"),
        ("Venezuela", "VE"),
        ("Bolivia", "BO"),
        ("República Dominicana", "DO"),
        ("Reino Unido", "GB"),
        ("UK", "GB"),
        ("Alemania", "DE"),
        ("Deutschland", "DE"),
        ("Francia", "FR"),
        ("Italia", "IT"),
        ("China", "CN"),
        ("Japón", "JP"),
        ("Corea del Sur", "KR"),
        ("Canadá", "CA"),
        ("Países Bajos", "NL"),
        ("Germany", "DE"),
        ("Côte d'Ivoire", "CI"),
        ("The Netherlands", "NL"),
        ("Zimbabwe", "ZW"),
        ("ZWE", "ZW"),
        ("Åland Islands", "AX"),
    ] {
        assert_eq!(region_code(text), Some(want), "{text:?}");
    }
}

#[test]
fn unknown_text() {
    for text in ["", "  ", "XX", "Atlantis", "Narnia", "ZZZ"] {
        assert_eq!(region_code(text), None, "{text:?}");
    }
}
