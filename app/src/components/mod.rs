//! Components more than one page uses.

pub mod battle_socket;
pub mod battle_typing;
pub mod battle_view;
pub mod charts;
pub mod code_editor;
pub mod live;
pub mod path_graph;
pub mod pulse;
