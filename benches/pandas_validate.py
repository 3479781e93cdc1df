#!/usr/bin/env python3
"""The alternative waport is measured against: a pandas + phonenumbers +
email-validator script applying waport validate's rules to the file that
`waport generate` writes (Windows-1252, `;`, Spanish headers).

Usage: pandas_validate.py INPUT REPORT
"""
import sys

import pandas as pd
import phonenumbers
from email_validator import EmailNotValidError, validate_email

COUNTRY = {
    "méxico": "MX", "españa": "ES", "colombia": "CO", "argentina": "AR", "brasil": "BR",
    "chile": "CL", "perú": "PE", "estados unidos": "US", "rusia": "RU", "alemania": "DE",
    "francia": "FR", "reino unido": "GB", "italia": "IT", "india": "IN", "china": "CN",
    "venezuela": "VE",
}


def region_of(country):
    if not isinstance(country, str) or not country.strip():
        return None
    c = country.strip()
    if len(c) == 2:
        return c.upper()
    return COUNTRY.get(c.lower())


def clean(raw):
    s = raw.strip()
    if s.startswith("'"):
        s = s[1:]
    if s.lower().startswith("tel:"):
        s = s[4:]
    if s.endswith(".0"):
        s = s[:-2]
    if s.startswith("00"):
        s = "+" + s[2:]
    return s


def mexico(num):
    # +52 1 + 10 digits (legacy mobile) → +52 + 10 digits
    n = str(num.national_number)
    if num.country_code == 52 and len(n) == 11 and n.startswith("1"):
        num = phonenumbers.parse("+52" + n[1:], None)
    return num


def normalize_phone(raw, region):
    if not isinstance(raw, str) or not raw.strip():
        return None, "missing_phone"
    s = clean(raw)
    digits = "".join(ch for ch in s if ch.isdigit())
    if region == "MX" and len(digits) == 13 and digits[:3] in ("044", "045"):
        s = "+52" + digits[3:]
    for attempt in (s, "+" + digits if not s.startswith("+") else None):
        if attempt is None:
            continue
        try:
            num = phonenumbers.parse(attempt, region if attempt is s else None)
        except phonenumbers.NumberParseException:
            if region is None and not s.startswith("+"):
                continue
            continue
        num = mexico(num)
        if phonenumbers.is_valid_number(num):
            return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164), None
    if region is None and not s.startswith("+"):
        return None, "phone_needs_country"
    return None, "invalid_phone"


def normalize_email(raw):
    if not isinstance(raw, str) or not raw.strip():
        return "", None
    try:
        v = validate_email(raw.strip(), check_deliverability=False)
        return v.normalized, None
    except EmailNotValidError:
        return None, "invalid_email"


def main():
    src, out = sys.argv[1], sys.argv[2]
    df = pd.read_csv(src, sep=";", encoding="cp1252", dtype=str, keep_default_na=False)
    seen = {}
    rows = []
    for i, rec in enumerate(df.itertuples(index=False), start=2):
        phone_raw, email_raw, country = rec[2], rec[3], rec[4]
        region = region_of(country)
        e164, perr = normalize_phone(phone_raw, region)
        email, eerr = normalize_email(email_raw)
        reasons = [r for r in (perr, eerr) if r]
        status, dup = ("invalid" if reasons else "valid"), ""
        if not reasons:
            if e164 in seen:
                status, dup = "duplicate", seen[e164]
            else:
                seen[e164] = i
        rows.append((i, status, "; ".join(reasons), e164 or "", email or "", dup))
    report = pd.DataFrame(rows, columns=["row", "status", "reason", "phone", "email", "duplicate_of"])
    report = pd.concat([report, df.reset_index(drop=True)], axis=1)
    report.to_csv(out, index=False)
    counts = report["status"].value_counts().to_dict()
    print(f"{len(report)} rows: {counts}", file=sys.stderr)


if __name__ == "__main__":
    main()
