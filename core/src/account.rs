//! Accounts: e-mail, display name, password policy and roles.
//!
//! Each type can only be built through `parse`, so holding one proves the rule
//! was met. The limits are also the server's defence: a 128-character password
//! cap keeps argon2 from being fed megabytes, a 254-character e-mail cap matches
//! what mail systems deliver.

use crate::invalid::{Invalid, has_control, text_type};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest e-mail address mail systems deliver (RFC 5321 path limit).
pub const EMAIL_MAX: usize = 254;
/// Display names are shown in leaderboards and headers: short enough to fit.
pub const DISPLAY_NAME_MAX: usize = 50;
/// The shortest password accepted.
pub const PASSWORD_MIN: usize = 10;
/// The longest password accepted; bounds the work one log-in can cost.
pub const PASSWORD_MAX: usize = 128;

/// A syntactically valid e-mail address, trimmed and lower-cased (one account per address).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

text_type!(Email);

impl Email {
    /// Accepts `local@domain.tld` with no spaces or control characters.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let email = raw.trim().to_lowercase();
        let bad = |m: &str| Err(Invalid::new("email", m));
        if email.is_empty() {
            return bad("Enter your e-mail address.");
        }
        if email.chars().count() > EMAIL_MAX {
            return bad("That e-mail address is too long (254 characters at most).");
        }
        if has_control(&email) || email.contains(char::is_whitespace) {
            return bad("An e-mail address has no spaces.");
        }
        let Some((local, domain)) = email.split_once('@') else {
            return bad("An e-mail address needs an @, as in ada@example.com.");
        };
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && domain
                .split('.')
                .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return bad("That does not look like an e-mail address, as in ada@example.com.");
        }
        Ok(Self(email))
    }
}

/// The name other learners see: 1 to 50 characters, trimmed, on one line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

text_type!(DisplayName);

impl DisplayName {
    /// Accepts any printable name of 1 to 50 characters after trimming.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(Invalid::new(
                "display_name",
                "Choose a name others will see.",
            ));
        }
        if name.chars().count() > DISPLAY_NAME_MAX {
            return Err(Invalid::new(
                "display_name",
                "Keep your name to 50 characters.",
            ));
        }
        if has_control(name) {
            return Err(Invalid::new(
                "display_name",
                "A name is one line of plain text.",
            ));
        }
        Ok(Self(name.to_owned()))
    }
}

/// A new password that meets the policy. Deliberately not `Serialize`, `Display` or `Debug`-printing.
#[derive(Clone)]
pub struct NewPassword(String);

/// Passwords so common that length alone does not make them safe.
const COMMON: &[&str] = &[
    "password", "123456", "qwerty", "letmein", "welcome", "iloveyou", "admin", "abc123", "monkey",
    "dragon", "football", "baseball", "sunshine", "princess", "eduscale",
];

impl NewPassword {
    /// The policy: 10 to 128 characters, at least two kinds of character (letters,
    /// digits, others), not one repeated character, not a common password, and not
    /// the user's own e-mail name.
    pub fn parse(raw: &str, email: Option<&Email>) -> Result<Self, Invalid> {
        let bad = |m: &str| Err(Invalid::new("password", m));
        let len = raw.chars().count();
        if len < PASSWORD_MIN {
            return bad("Use at least 10 characters.");
        }
        if len > PASSWORD_MAX {
            return bad("Use at most 128 characters.");
        }
        let letters = raw.chars().any(char::is_alphabetic);
        let digits = raw.chars().any(|c| c.is_ascii_digit());
        let others = raw.chars().any(|c| !c.is_alphanumeric());
        if [letters, digits, others].iter().filter(|k| **k).count() < 2 {
            return bad("Mix at least two of: letters, digits, symbols.");
        }
        let mut chars = raw.chars();
        let first = chars.next();
        if chars.all(|c| Some(c) == first) {
            return bad("A single repeated character is easy to guess.");
        }
        let folded = raw.to_lowercase();
        let core: String = folded.chars().filter(|c| c.is_alphabetic()).collect();
        if COMMON
            .iter()
            .any(|c| folded.starts_with(c) && core.len() <= c.len() + 1)
        {
            return bad("That password is on every attacker's list; choose another.");
        }
        if let Some(local) = email.and_then(|e| e.as_str().split('@').next())
            && local.len() >= 4
            && folded.contains(local)
        {
            return bad("Do not build your password from your e-mail address.");
        }
        Ok(Self(raw.to_owned()))
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(<hidden>)")
    }
}

/// What a person may do on the platform.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Follows paths, battles, runs code.
    Learner,
    /// Runs cohorts and reads their insights.
    Instructor,
    /// Runs the platform.
    Admin,
}

impl Role {
    /// Every role, in order of power.
    pub const ALL: [Role; 3] = [Role::Learner, Role::Instructor, Role::Admin];

    /// The name stored in the database and shown in the UI.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Learner => "learner",
            Role::Instructor => "instructor",
            Role::Admin => "admin",
        }
    }

    /// Reads a role name, as stored or typed on the command line.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim().to_lowercase().as_str() {
            "learner" => Ok(Role::Learner),
            "instructor" => Ok(Role::Instructor),
            "admin" => Ok(Role::Admin),
            _ => Err(Invalid::new(
                "role",
                "A role is learner, instructor or admin.",
            )),
        }
    }

    /// Whether this role may create and run cohorts.
    pub fn teaches(self) -> bool {
        matches!(self, Role::Instructor | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A sign-up form that passed every rule.
#[derive(Debug, Clone)]
pub struct SignUp {
    /// Where the account's mail goes; its log-in name.
    pub email: Email,
    /// The name others see.
    pub display_name: DisplayName,
    /// The chosen password.
    pub password: NewPassword,
}

impl SignUp {
    /// Checks every field and returns every problem at once, so a form can show them all.
    pub fn parse(email: &str, display_name: &str, password: &str) -> Result<Self, Vec<Invalid>> {
        let email = Email::parse(email);
        let display_name = DisplayName::parse(display_name);
        let password = NewPassword::parse(password, email.as_ref().ok());
        match (email, display_name, password) {
            (Ok(email), Ok(display_name), Ok(password)) => Ok(Self {
                email,
                display_name,
                password,
            }),
            (e, n, p) => Err([e.err(), n.err(), p.err()].into_iter().flatten().collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn email_is_trimmed_and_lowercased() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
    }

    #[test]
    fn email_without_at_or_dot_is_refused() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "a@b@c.com",
            "ada@-x.com",
            "ada@x..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn over_long_email_is_refused() {
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long).unwrap_err().field, "email");
    }

    #[test]
    fn display_name_rules() {
        assert_eq!(
            DisplayName::parse("  Ada Lovelace ").unwrap().as_str(),
            "Ada Lovelace"
        );
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(51)).is_err());
        assert!(DisplayName::parse("line\nbreak").is_err());
        assert!(
            DisplayName::parse(&"é".repeat(50)).is_ok(),
            "characters, not bytes, are counted"
        );
    }

    #[test]
    fn password_policy() {
        let email = Email::parse("grace.hopper@example.com").unwrap();
        assert!(NewPassword::parse("short1!", None).is_err());
        assert!(NewPassword::parse("onlyletterss", None).is_err());
        assert!(NewPassword::parse("1111111111", None).is_err());
        assert!(NewPassword::parse("Password123", None).is_err());
        assert!(NewPassword::parse("grace.hopper-2024", Some(&email)).is_err());
        assert!(NewPassword::parse(&"ab1".repeat(50), None).is_err());
        assert!(NewPassword::parse("correct horse battery", None).is_ok());
        assert!(NewPassword::parse("tr0ub4dor&3", Some(&email)).is_ok());
    }

    #[test]
    fn password_debug_hides_the_secret() {
        let p = NewPassword::parse("correct horse battery", None).unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }

    #[test]
    fn sign_up_reports_every_bad_field() {
        let errors = SignUp::parse("nope", "", "x").unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "display_name", "password"]);
    }

    #[test]
    fn role_round_trips() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        assert!(Role::parse("root").is_err());
        assert!(Role::Instructor.teaches() && !Role::Learner.teaches());
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,300}") {
            let _ = Email::parse(&s);
            let _ = DisplayName::parse(&s);
            let _ = NewPassword::parse(&s, None);
        }

        #[test]
        fn a_parsed_email_parses_to_itself(s in "[a-zA-Z0-9._%+-]{1,20}@[a-z0-9]{1,10}\\.[a-z]{2,5}") {
            let once = Email::parse(&s).unwrap();
            prop_assert_eq!(Email::parse(once.as_str()).unwrap(), once);
        }
    }
}
