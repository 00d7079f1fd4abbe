//! Components more than one page uses.

pub mod code_editor;
pub mod live;
pub mod path_graph;
