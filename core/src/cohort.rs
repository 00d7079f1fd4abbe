//! Cohorts: a group of learners under an instructor, joined with an invite code.
//!
//! Invite codes are read aloud and typed from slides, so the alphabet leaves out
//! look-alikes (0/O, 1/I/L) and the code is grouped as `ABCD-EFGH`; case and the
//! dash are forgiven when typed. 8 symbols from 31 give ~40 bits: enough, since
//! a code also expires and joining is rate-limited by the log-in.

use crate::invalid::{Invalid, has_control, text_type};
use serde::{Deserialize, Serialize};

/// Symbols an invite code is made of.
pub const INVITE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// Symbols in a code, without the dash.
pub const INVITE_LEN: usize = 8;
/// The longest cohort name.
pub const COHORT_NAME_MAX: usize = 80;

/// A well-formed invite code, normalised to `ABCD-EFGH`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InviteCode(String);

text_type!(InviteCode);

impl InviteCode {
    /// Accepts 8 code symbols in any case, with or without the dash and spaces.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let symbols: String = raw
            .chars()
            .filter(|c| !matches!(c, '-' | ' '))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if symbols.is_empty() {
            return Err(Invalid::new(
                "code",
                "Enter the invite code your instructor gave you.",
            ));
        }
        let valid =
            symbols.len() == INVITE_LEN && symbols.bytes().all(|b| INVITE_ALPHABET.contains(&b));
        if !valid {
            return Err(Invalid::new(
                "code",
                "An invite code looks like ABCD-EFGH (8 letters and digits).",
            ));
        }
        Ok(Self(format!("{}-{}", &symbols[..4], &symbols[4..])))
    }

    /// Makes a code from random bytes supplied by the caller (core does no IO, so no RNG here).
    pub fn from_random(bytes: [u8; INVITE_LEN]) -> Self {
        let symbols: String = bytes
            .iter()
            .map(|b| INVITE_ALPHABET[usize::from(*b) % INVITE_ALPHABET.len()] as char)
            .collect();
        Self(format!("{}-{}", &symbols[..4], &symbols[4..]))
    }
}

/// A cohort's name: 1 to 80 characters on one line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CohortName(String);

text_type!(CohortName);

impl CohortName {
    /// Accepts a trimmed, printable name of 1 to 80 characters.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(Invalid::new(
                "name",
                "Give the cohort a name, e.g. \"Python, autumn 2026\".",
            ));
        }
        if name.chars().count() > COHORT_NAME_MAX {
            return Err(Invalid::new(
                "name",
                "Keep the cohort's name to 80 characters.",
            ));
        }
        if has_control(name) {
            return Err(Invalid::new(
                "name",
                "A cohort's name is one line of plain text.",
            ));
        }
        Ok(Self(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn invite_code_forgives_case_and_dashes() {
        assert_eq!(
            InviteCode::parse("abcd efgh").unwrap().as_str(),
            "ABCD-EFGH"
        );
        assert_eq!(InviteCode::parse("ABCDEFGH").unwrap().as_str(), "ABCD-EFGH");
    }

    #[test]
    fn invite_code_refuses_look_alikes_and_wrong_length() {
        for bad in [
            "",
            "ABCD-EFG",
            "ABCD-EFGHJ",
            "ABCD-EFG0",
            "OBCD-EFGH",
            "ABCD-EFGI",
            "ABCD_EFGH",
        ] {
            assert!(InviteCode::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn cohort_name_rules() {
        assert!(CohortName::parse("  ").is_err());
        assert!(CohortName::parse(&"n".repeat(81)).is_err());
        assert_eq!(
            CohortName::parse(" Python 101 ").unwrap().as_str(),
            "Python 101"
        );
    }

    proptest! {
        #[test]
        fn generated_codes_parse_to_themselves(bytes in any::<[u8; INVITE_LEN]>()) {
            let code = InviteCode::from_random(bytes);
            prop_assert_eq!(InviteCode::parse(code.as_str()).unwrap(), code);
        }

        #[test]
        fn invite_parsing_never_panics(s in "\\PC{0,40}") {
            let _ = InviteCode::parse(&s);
        }
    }
}
