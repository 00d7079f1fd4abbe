//! Running learners' code, as data both sides share: the languages, the limits a
//! run gets, the report it returns and a judged submission. The `runner` crate
//! produces these; the pages in the browser show them.

mod judgement;
mod language;
mod limits;
mod report;
mod source;

pub use judgement::{
    CaseDetails, CaseResult, Checker, DiffLine, Judgement, MAX_DIFF_LINES, TestCase,
};
pub use language::{Backend, Language, LanguageStatus};
pub use limits::Limits;
pub use report::{Report, Verdict, tail};
pub use source::{MAX_INPUT_BYTES, MAX_SOURCE_BYTES, ProgramInput, SourceCode};
