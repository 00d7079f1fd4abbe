//! Text operations on a player's code: replace a range with new text.
//!
//! Offsets are UTF-8 byte offsets into the document and must fall on character
//! boundaries (the editor bridge converts from its own units); anything else is
//! an error rather than a guess, so both sides always hold the same text.

use serde::{Deserialize, Serialize};

/// Delete `delete` bytes at `at`, then insert `insert` there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextEdit {
    /// Byte offset.
    pub at: u32,
    /// Bytes removed.
    pub delete: u32,
    /// Text inserted.
    pub insert: String,
}

/// Why an edit does not fit the document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// The range ends past the document.
    #[error("edit at {at}+{delete} is past the end ({len} bytes)")]
    OutOfRange {
        /// Start.
        at: u32,
        /// Length removed.
        delete: u32,
        /// Document length.
        len: usize,
    },
    /// An offset splits a character.
    #[error("edit at {0} splits a character")]
    NotCharBoundary(u32),
    /// The result would be longer than allowed.
    #[error("the document would be {0} bytes, over the limit")]
    TooLong(usize),
}

impl TextEdit {
    /// Checks that the edit fits `doc` and keeps it within `max` bytes.
    pub fn check(&self, doc: &str, max: usize) -> Result<(), TextError> {
        let start = self.at as usize;
        let end = start.checked_add(self.delete as usize);
        let Some(end) = end.filter(|&e| e <= doc.len()) else {
            return Err(TextError::OutOfRange {
                at: self.at,
                delete: self.delete,
                len: doc.len(),
            });
        };
        if !doc.is_char_boundary(start) {
            return Err(TextError::NotCharBoundary(self.at));
        }
        if !doc.is_char_boundary(end) {
            return Err(TextError::NotCharBoundary(self.at + self.delete));
        }
        let len = doc.len() - (end - start) + self.insert.len();
        if len > max {
            return Err(TextError::TooLong(len));
        }
        Ok(())
    }

    /// Applies a checked edit.
    pub fn apply(&self, doc: &mut String, max: usize) -> Result<(), TextError> {
        self.check(doc, max)?;
        let start = self.at as usize;
        let len = doc.len() - self.delete as usize + self.insert.len();
        if len > doc.capacity() {
            // An eighth to spare rather than `String`'s doubling: the server
            // holds every document three times (the owner's copy and a
            // follower on each instance), 10,000 players over, and doubling
            // left up to half of each unused. A growing document still
            // reallocates only once per eighth of its length.
            doc.reserve_exact(len - doc.len() + len / 8 + 16);
        }
        doc.replace_range(start..start + self.delete as usize, &self.insert);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(at: u32, delete: u32, insert: &str) -> TextEdit {
        TextEdit {
            at,
            delete,
            insert: insert.into(),
        }
    }

    #[test]
    fn edits_insert_delete_and_replace() {
        let mut doc = String::from("print(1)");
        edit(6, 1, "42").apply(&mut doc, 100).expect("replace");
        assert_eq!(doc, "print(42)");
        edit(0, 0, "# hi\n").apply(&mut doc, 100).expect("insert");
        edit(0, 5, "").apply(&mut doc, 100).expect("delete");
        assert_eq!(doc, "print(42)");
    }

    #[test]
    fn edits_that_do_not_fit_are_refused_and_change_nothing() {
        let mut doc = String::from("é=1");
        assert!(matches!(
            edit(1, 0, "x").apply(&mut doc, 100),
            Err(TextError::NotCharBoundary(1))
        ));
        assert!(matches!(
            edit(3, 9, "").apply(&mut doc, 100),
            Err(TextError::OutOfRange { .. })
        ));
        assert!(matches!(
            edit(u32::MAX, u32::MAX, "").apply(&mut doc, 100),
            Err(TextError::OutOfRange { .. })
        ));
        assert!(matches!(
            edit(0, 0, "toolong").apply(&mut doc, 5),
            Err(TextError::TooLong(11))
        ));
        assert_eq!(doc, "é=1");
    }

    #[test]
    fn a_growing_document_keeps_an_eighth_spare_not_half() {
        let mut doc = String::new();
        edit(0, 0, &"x".repeat(400))
            .apply(&mut doc, 1 << 20)
            .expect("paste");
        let mut grew = 0;
        for _ in 0..2_000 {
            let before = doc.capacity();
            let at = doc.len() as u32;
            edit(at, 0, "ab").apply(&mut doc, 1 << 20).expect("type");
            grew += usize::from(doc.capacity() != before);
            assert!(doc.capacity() <= doc.len() + doc.len() / 8 + 18, "{doc:?}");
        }
        assert_eq!(doc.len(), 4_400);
        // Geometric growth still: a reallocation every eighth of the length.
        assert!(grew < 40, "{grew} reallocations");
    }
}
