//! A learner's program and the input they type for it, as accepted at the boundary.
//!
//! The same rules run in the browser (the page says "too large" before sending)
//! and in the server function; past `parse`, nothing checks the size again. The
//! runner keeps its own limit as a last line of defence for other callers.

use crate::invalid::Invalid;

/// The largest program accepted, in bytes of UTF-8.
pub const MAX_SOURCE_BYTES: usize = 64 << 10;
/// The largest stdin a learner may type for a run, in bytes of UTF-8. (Challenge
/// tests may be larger: they come from the challenge, not from the request.)
pub const MAX_INPUT_BYTES: usize = 64 << 10;

/// A program: not blank, at most [`MAX_SOURCE_BYTES`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceCode(String);

impl SourceCode {
    /// Accepts any program that is not blank and fits.
    pub fn parse(raw: String) -> Result<Self, Invalid> {
        if raw.trim().is_empty() {
            return Err(Invalid::new("source", "Write a program first."));
        }
        if raw.len() > MAX_SOURCE_BYTES {
            return Err(Invalid::new(
                "source",
                format!(
                    "The program is {} KiB; the limit is {} KiB.",
                    raw.len().div_ceil(1024),
                    MAX_SOURCE_BYTES >> 10
                ),
            ));
        }
        Ok(Self(raw))
    }

    /// The program's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The program's text, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// What a program reads on stdin: at most [`MAX_INPUT_BYTES`] (empty is fine).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ProgramInput(String);

impl ProgramInput {
    /// Accepts any input that fits.
    pub fn parse(raw: String) -> Result<Self, Invalid> {
        if raw.len() > MAX_INPUT_BYTES {
            return Err(Invalid::new(
                "stdin",
                format!(
                    "The input is {} KiB; the limit is {} KiB.",
                    raw.len().div_ceil(1024),
                    MAX_INPUT_BYTES >> 10
                ),
            ));
        }
        Ok(Self(raw))
    }

    /// The input, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_program_is_refused() {
        let e = SourceCode::parse(" \n\t".into()).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("source", "Write a program first.")
        );
    }

    #[test]
    fn a_program_just_over_the_limit_is_refused_with_its_size() {
        assert!(SourceCode::parse("x".repeat(MAX_SOURCE_BYTES)).is_ok());
        let e = SourceCode::parse("x".repeat(MAX_SOURCE_BYTES + 1)).unwrap_err();
        assert_eq!(e.message, "The program is 65 KiB; the limit is 64 KiB.");
    }

    #[test]
    fn input_may_be_empty_but_not_too_large() {
        assert!(ProgramInput::parse(String::new()).is_ok());
        let e = ProgramInput::parse("1\n".repeat(MAX_INPUT_BYTES)).unwrap_err();
        assert_eq!(e.field, "stdin");
        assert!(
            e.message.starts_with("The input is 128 KiB"),
            "{}",
            e.message
        );
    }
}
