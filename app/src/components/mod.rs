//! Components more than one page uses.

pub mod code_editor;
