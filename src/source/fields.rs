//! [`Fields`]: one record's text cells in a single allocation.

use std::fmt;
use std::ops::Index;

/// The text fields of one record, stored back to back in one `String` with
/// their end offsets.
///
/// A row used to be a `Vec<String>`: nine allocations for an eight-column
/// file, made on the reader thread and freed on another. At a million rows a
/// second that allocator traffic was the largest single cost of a validate
/// run; this layout makes it two allocations per row and one `memcpy`.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Fields {
    text: String,
    ends: Vec<usize>,
}

impl Fields {
    /// No fields.
    pub fn new() -> Fields {
        Fields::default()
    }

    /// Room for `fields` fields holding `bytes` bytes of text in all.
    pub fn with_capacity(bytes: usize, fields: usize) -> Fields {
        Fields {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(fields),
        }
    }

    /// Builds the fields from text already laid out back to back, with each
    /// field's end offset (what a CSV reader's record buffer holds).
    ///
    /// Returns `None` when an end is out of order, past the text, or not on
    /// a character boundary, so a caller can fall back to field-by-field
    /// decoding.
    pub fn from_parts(text: String, ends: Vec<usize>) -> Option<Fields> {
        let mut last = 0;
        for &e in &ends {
            if e < last || !text.is_char_boundary(e) {
                return None;
            }
            last = e;
        }
        (last == text.len()).then_some(Fields { text, ends })
    }

    /// Appends a field.
    pub fn push(&mut self, field: &str) {
        self.text.push_str(field);
        self.ends.push(self.text.len());
    }

    /// Bytes of text in all the fields together.
    pub fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `i`-th field, if there is one.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.text[start..end])
    }

    /// The fields in order.
    pub fn iter(&self) -> FieldsIter<'_> {
        FieldsIter {
            fields: self,
            start: 0,
            next: 0,
        }
    }

    /// The fields as separate strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }
}

/// Iterator over [`Fields`].
#[derive(Debug, Clone)]
pub struct FieldsIter<'a> {
    fields: &'a Fields,
    start: usize,
    next: usize,
}

impl<'a> Iterator for FieldsIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let end = *self.fields.ends.get(self.next)?;
        let s = &self.fields.text[self.start..end];
        self.start = end;
        self.next += 1;
        Some(s)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.fields.ends.len() - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for FieldsIter<'_> {}

impl<'a> IntoIterator for &'a Fields {
    type Item = &'a str;
    type IntoIter = FieldsIter<'a>;
    fn into_iter(self) -> FieldsIter<'a> {
        self.iter()
    }
}

impl Index<usize> for Fields {
    type Output = str;
    fn index(&self, i: usize) -> &str {
        match self.get(i) {
            Some(s) => s,
            None => panic!("field {i} of a {}-field record", self.len()),
        }
    }
}

impl<S: AsRef<str>> FromIterator<S> for Fields {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Fields {
        let mut f = Fields::new();
        for s in iter {
            f.push(s.as_ref());
        }
        f
    }
}

impl From<Vec<String>> for Fields {
    fn from(v: Vec<String>) -> Fields {
        v.iter().collect()
    }
}

impl<S: AsRef<str>> PartialEq<[S]> for Fields {
    fn eq(&self, other: &[S]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a == b.as_ref())
    }
}

impl<S: AsRef<str>, const N: usize> PartialEq<[S; N]> for Fields {
    fn eq(&self, other: &[S; N]) -> bool {
        *self == other[..]
    }
}

impl<S: AsRef<str>> PartialEq<Vec<S>> for Fields {
    fn eq(&self, other: &Vec<S>) -> bool {
        *self == other[..]
    }
}

impl fmt::Debug for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_their_boundaries_including_empty_ones() {
        let f: Fields = ["José", "", "+34 600", ""].into_iter().collect();
        assert_eq!(f.len(), 4);
        assert_eq!(&f[0], "José");
        assert_eq!(f.get(1), Some(""));
        assert_eq!(f.get(3), Some(""));
        assert_eq!(f.get(4), None);
        assert_eq!(f.iter().collect::<Vec<_>>(), ["José", "", "+34 600", ""]);
        assert_eq!(f, ["José", "", "+34 600", ""]);
        assert_eq!(f.to_vec(), ["José", "", "+34 600", ""]);
        assert!(Fields::new().is_empty());
    }

    #[test]
    fn from_parts_refuses_ends_off_character_boundaries() {
        let ok = Fields::from_parts("Joséab".into(), vec![5, 6, 7]).unwrap();
        assert_eq!(ok, ["José", "a", "b"]);
        assert!(Fields::from_parts("José".into(), vec![4]).is_none());
        assert!(Fields::from_parts("ab".into(), vec![2, 1]).is_none());
        assert!(Fields::from_parts("ab".into(), vec![1]).is_none());
        assert!(Fields::from_parts("ab".into(), vec![3]).is_none());
        assert_eq!(
            Fields::from_parts(String::new(), vec![]),
            Some(Fields::new())
        );
    }
}
