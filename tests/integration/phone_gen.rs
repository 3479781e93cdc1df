//! Generated phone cells across 16 countries in national, international,
//! WhatsApp-id and noisy forms, shared by the phone property tests.

/// One numbering plan: region, and templates (`#` = random digit) written
/// internationally (`+…`) or nationally.
pub struct Plan {
    pub region: &'static str,
    pub templates: &'static [&'static str],
}

/// Real mobile and landline layouts, plus trunk, carrier and legacy forms.
pub const PLANS: &[Plan] = &[
    Plan {
        region: "MX",
        templates: &[
            "+52 55 #### ####",
            "+52 1 ## #### ####",
            "+52 81 #### ####",
            "+52 ### ### ####",
            "55 #### ####",
            "044 55 #### ####",
            "045 ## #### ####",
            "### ### ####",
        ],
    },
    Plan {
        region: "BR",
        templates: &[
            "+55 11 9#### ####",
            "+55 21 3### ####",
            "0 21 11 9####-####",
            "(11) 3###-####",
            "(##) 9####-####",
            "011 9#### ####",
            "+55 ## #### ####",
        ],
    },
    Plan {
        region: "AR",
        templates: &[
            "+54 9 11 #### ####",
            "+54 11 #### ####",
            "011 15 #### ####",
            "0351 15 ### ####",
            "0351 ### ####",
            "+54 9 351 ### ####",
            "15 #### ####",
            "11 #### ####",
        ],
    },
    Plan {
        region: "CO",
        templates: &[
            "+57 3## ### ####",
            "+57 601 ### ####",
            "3## ### ####",
            "(60#) ### ####",
            "03 ### ### ####",
        ],
    },
    Plan {
        region: "CL",
        templates: &[
            "+56 9 #### ####",
            "+56 2 #### ####",
            "9 #### ####",
            "2 #### ####",
            "+56 ## ### ####",
        ],
    },
    Plan {
        region: "PE",
        templates: &[
            "+51 9## ### ###",
            "+51 1 ### ####",
            "(01) ### ####",
            "9## ### ###",
            "0## ## ####",
        ],
    },
    Plan {
        region: "ES",
        templates: &[
            "+34 6## ## ## ##",
            "+34 9## ## ## ##",
            "7## ### ###",
            "9## ### ###",
            "6########",
        ],
    },
    Plan {
        region: "US",
        templates: &[
            "+1 ### ### ####",
            "(###) ###-####",
            "1 ### ### ####",
            "011 44 7### ######",
            "+1 (212) 5##-####",
        ],
    },
    Plan {
        region: "RU",
        templates: &[
            "+7 9## ###-##-##",
            "8 (9##) ###-##-##",
            "8 495 ### ## ##",
            "+7 495 ### ## ##",
            "7 9## ### ## ##",
            "8 800 ### ## ##",
            "810 34 6## ### ###",
        ],
    },
    Plan {
        region: "DE",
        templates: &[
            "+49 15# ########",
            "0151 ########",
            "030 ########",
            "+49 30 #######",
            "0## ### ####",
        ],
    },
    Plan {
        region: "FR",
        templates: &["+33 # ## ## ## ##", "0# ## ## ## ##", "+33 6 ## ## ## ##"],
    },
    Plan {
        region: "GB",
        templates: &[
            "+44 7### ######",
            "07### ######",
            "020 #### ####",
            "+44 20 #### ####",
            "0### ### ####",
        ],
    },
    Plan {
        region: "IT",
        templates: &[
            "+39 3## ### ####",
            "3## ### ####",
            "06 #### ####",
            "+39 02 #### ####",
            "0### ######",
        ],
    },
    Plan {
        region: "IN",
        templates: &[
            "+91 9#### #####",
            "09#### #####",
            "0## #### ####",
            "+91 11 #### ####",
            "9#########",
        ],
    },
    Plan {
        region: "CN",
        templates: &[
            "+86 1## #### ####",
            "1## #### ####",
            "010 #### ####",
            "+86 21 #### ####",
            "0### #######",
        ],
    },
    Plan {
        region: "VE",
        templates: &[
            "+58 4## #######",
            "04## #######",
            "02## #######",
            "+58 212 #######",
        ],
    },
];

/// Regions used when a cell is read outside its own country.
#[allow(dead_code)]
pub const REGIONS: &[&str] = &[
    "MX", "BR", "AR", "CO", "CL", "PE", "ES", "US", "RU", "DE", "FR", "GB", "IT", "IN", "CN", "VE",
];

#[allow(dead_code)]
fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

/// A clean cell from `plan`'s template `t` with random digits from `seed`:
/// returns the cell and the region to read it in (the plan's own region).
pub fn clean_cell(plan: usize, t: usize, seed: u64) -> (String, Option<&'static str>) {
    let p = &PLANS[plan % PLANS.len()];
    let tpl = p.templates[t % p.templates.len()];
    let mut rng = fastrand::Rng::with_seed(seed);
    let s: String = tpl
        .chars()
        .map(|c| if c == '#' { rng.digit(10) } else { c })
        .collect();
    let region = if s.starts_with('+') {
        None
    } else {
        Some(p.region)
    };
    (s, region)
}

/// A cell in one of many forms (clean, WhatsApp id in a foreign or no
/// region, `00`, `.0`, apostrophe, `tel:`, non-breaking spaces, random
/// digits): `form` picks the form.
#[allow(dead_code)]
pub fn cell(plan: usize, t: usize, form: usize, seed: u64) -> (String, Option<&'static str>) {
    let (s, region) = clean_cell(plan, t, seed);
    let own = PLANS[plan % PLANS.len()].region;
    let other = REGIONS[(seed as usize / 7) % REGIONS.len()];
    let d = digits(&s);
    let intl = s.starts_with('+');
    match form % 12 {
        0 => (s, region),
        1 => (d, Some(other)),
        2 => (d, None),
        3 if intl => (format!("00{d}"), Some(other)),
        4 => (format!("{d}.0"), region),
        5 => (format!("'{s}"), region),
        6 if intl => (format!("tel:{}", s.replace(' ', "-")), None),
        7 => (s.replace(' ', "\u{a0}"), region),
        8 => (s, Some(other)),
        9 => (d, Some(own)),
        10 => {
            // Random digits in the same length range, read anywhere.
            let mut rng = fastrand::Rng::with_seed(seed ^ 0x5eed);
            let n = rng.usize(6..16);
            let r: String = (0..n).map(|_| rng.digit(10)).collect();
            let plus = if rng.bool() { "+" } else { "" };
            (format!("{plus}{r}"), Some(other))
        }
        _ => (s, Some(own)),
    }
}
