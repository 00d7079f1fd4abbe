//! The languages a learner can write in, and which backend runs each.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A language offered to learners. The id (`python`, `javascript`, …) is what the
/// API, the CLI and the database carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// CPython 3.12 with the full standard library, in a wasmtime guest.
    Python,
    /// QuickJS-NG (ES2023), in a wasmtime guest.
    JavaScript,
    /// C (gcc), in a Docker container.
    C,
    /// C++ (g++), in a Docker container.
    Cpp,
    /// Rust (rustc), in a Docker container.
    Rust,
    /// Go, in a Docker container.
    Go,
    /// Java (OpenJDK), in a Docker container.
    Java,
}

/// Which sandbox runs a language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// A WASI guest interpreter under wasmtime: starts in microseconds.
    Wasm,
    /// A fresh container per run, from a warm pool.
    Docker,
}

impl Language {
    /// Every language, in the order pickers show them.
    pub const ALL: [Language; 7] = [
        Language::Python,
        Language::JavaScript,
        Language::C,
        Language::Cpp,
        Language::Rust,
        Language::Go,
        Language::Java,
    ];

    /// The stable id used on the wire and in storage.
    pub fn id(self) -> &'static str {
        match self {
            Language::Python => "python",
            Language::JavaScript => "javascript",
            Language::C => "c",
            Language::Cpp => "cpp",
            Language::Rust => "rust",
            Language::Go => "go",
            Language::Java => "java",
        }
    }

    /// The name people read.
    pub fn name(self) -> &'static str {
        match self {
            Language::Python => "Python 3.12",
            Language::JavaScript => "JavaScript (QuickJS)",
            Language::C => "C (gcc)",
            Language::Cpp => "C++ (g++)",
            Language::Rust => "Rust",
            Language::Go => "Go",
            Language::Java => "Java",
        }
    }

    /// The file extension its programs use (`starter.py`, `solution.js`).
    pub fn extension(self) -> &'static str {
        match self {
            Language::Python => "py",
            Language::JavaScript => "js",
            Language::C => "c",
            Language::Cpp => "cpp",
            Language::Rust => "rs",
            Language::Go => "go",
            Language::Java => "java",
        }
    }

    /// The backend that runs it.
    pub fn backend(self) -> Backend {
        match self {
            Language::Python | Language::JavaScript => Backend::Wasm,
            _ => Backend::Docker,
        }
    }

    /// Parses an id (`py` and `js` are accepted too, for the command line).
    pub fn from_id(id: &str) -> Option<Language> {
        let id = id.trim().to_ascii_lowercase();
        Language::ALL
            .into_iter()
            .find(|l| l.id() == id)
            .or(match id.as_str() {
                "py" | "python3" => Some(Language::Python),
                "js" | "node" => Some(Language::JavaScript),
                "c++" => Some(Language::Cpp),
                "rs" => Some(Language::Rust),
                "golang" => Some(Language::Go),
                _ => None,
            })
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Whether a language can run here, and why not when it cannot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanguageStatus {
    /// The language.
    pub language: Language,
    /// Its backend.
    pub backend: Backend,
    /// `None` when it runs here; otherwise the reason, in words for learners.
    pub unavailable: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for language in Language::ALL {
            assert_eq!(Language::from_id(language.id()), Some(language));
        }
        assert_eq!(Language::from_id(" PY "), Some(Language::Python));
        assert_eq!(Language::from_id("cobol"), None);
    }
}
