//! The one shape every rejected input takes: which field, and a sentence a person can act on.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A field that failed its rule, with a message safe to show to the person who typed it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invalid {
    /// The form field's name (`email`, `password`, ...), so a form can put the message beside it.
    pub field: String,
    /// What is wrong and how to fix it, in plain words.
    pub message: String,
}

impl Invalid {
    /// A rejection of `field` with `message`.
    pub fn new(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Invalid {}

/// True when `s` holds a control character (newlines, NUL, escapes), which no one-line field accepts.
pub(crate) fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// The conversions every parsed text type shares: `as_str`, `Display`, and the
/// `TryFrom<String>` / `Into<String>` pair serde uses, so deserialising runs `parse` too.
macro_rules! text_type {
    ($name:ident) => {
        impl $name {
            /// The value as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::Invalid;
            fn try_from(s: String) -> Result<Self, $crate::Invalid> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
pub(crate) use text_type;
