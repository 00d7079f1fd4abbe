//! A player's typing, sent to the battle: the editor's text is compared with
//! the text last sent, and the difference goes out as one [`TextEdit`] (the
//! common prefix and suffix kept, UTF-8 byte offsets on character boundaries),
//! at most once every [`BATCH_MS`].
//!
//! The editor is the player's: the server's copy of their code comes back in
//! deltas (for spectators and the judge) and never overwrites what they type.
//! The two are kept in step by counting: every batch sent is answered, by a
//! delta carrying it or a `BadEdit` refusal. When nothing is in flight and the
//! server's copy is not the text last sent (a batch lost with a dropped socket,
//! or refused), the server's copy becomes the base and the next diff repairs
//! it. A reconnect starts the count again.

use eduscale_core::battle::TextEdit;
#[cfg(feature = "hydrate")]
use {
    super::battle_socket::{BattleSocket, Connection},
    eduscale_core::code::MAX_SOURCE_BYTES,
    eduscale_core::protocol::PlayerAction,
    leptos::prelude::*,
    std::time::Duration,
};

/// Typing is sent at most this often.
pub const BATCH_MS: u64 = 50;

/// The most text one message inserts (a frame from the client is at most
/// 16 KiB; a larger paste goes out in several).
pub const MAX_INSERT_BYTES: usize = 12 << 10;

/// The one edit that turns `old` into `new`, if they differ.
pub fn diff(old: &str, new: &str) -> Option<TextEdit> {
    if old == new {
        return None;
    }
    let mut prefix = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let room = old.len().min(new.len()) - prefix;
    let mut suffix = old
        .bytes()
        .rev()
        .zip(new.bytes().rev())
        .take(room)
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    Some(TextEdit {
        at: prefix as u32,
        delete: (old.len() - suffix - prefix) as u32,
        insert: new[prefix..new.len() - suffix].to_owned(),
    })
}

/// `edit` in pieces inserting at most `max` bytes each (at least one
/// character), to be applied in order.
pub fn pieces(edit: TextEdit, max: usize) -> Vec<TextEdit> {
    if edit.insert.len() <= max {
        return vec![edit];
    }
    let mut out = Vec::new();
    let mut rest = edit.insert.as_str();
    let mut at = edit.at;
    let mut delete = edit.delete;
    while !rest.is_empty() {
        let mut cut = max.min(rest.len());
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if cut == 0 {
            cut = rest.chars().next().map_or(rest.len(), char::len_utf8);
        }
        let (piece, tail) = rest.split_at(cut);
        out.push(TextEdit {
            at,
            delete,
            insert: piece.to_owned(),
        });
        at += piece.len() as u32;
        delete = 0;
        rest = tail;
    }
    out
}

/// Sends what the player types in `code` to the battle on `socket`.
#[cfg(feature = "hydrate")]
#[derive(Clone, Copy)]
pub struct Typing {
    socket: BattleSocket,
    code: RwSignal<String>,
    /// The text the server will hold once every batch sent is applied.
    base: StoredValue<String>,
    /// Batches sent, counted like `BattleSocket::edit_acks`.
    sent: StoredValue<u64>,
    /// A flush is waiting for its timer.
    scheduled: StoredValue<bool>,
}

#[cfg(feature = "hydrate")]
impl Typing {
    /// Starts following `code`; `base` is the server's copy of it now.
    pub fn start(socket: BattleSocket, code: RwSignal<String>, base: String) -> Typing {
        let typing = Typing {
            socket,
            code,
            base: StoredValue::new(base),
            sent: StoredValue::new(socket.edit_acks.get_untracked()),
            scheduled: StoredValue::new(false),
        };
        Effect::new(move |_| {
            code.track();
            typing.schedule();
        });
        Effect::new(move |_| {
            socket.edit_acks.track();
            typing.schedule();
        });
        Effect::new(move |_| {
            // A new socket: what was in flight on the old one is answered or lost.
            socket.welcomes.track();
            let _ = typing.sent.try_set_value(socket.edit_acks.get_untracked());
            typing.schedule();
        });
        typing
    }

    fn schedule(self) {
        if self.scheduled.try_get_value() != Some(false) {
            return;
        }
        self.scheduled.set_value(true);
        set_timeout(
            move || {
                if self.scheduled.try_set_value(false).is_none() {
                    self.flush();
                }
            },
            Duration::from_millis(BATCH_MS),
        );
    }

    /// Sends what changed now (before a run or a submit, which judge the
    /// server's copy).
    pub fn flush(self) {
        let Some(index) = self.socket.my_index_untracked() else {
            return;
        };
        if self.socket.connection.get_untracked() != Connection::Live {
            return;
        }
        let server = self.socket.state.with_untracked(|s| {
            s.as_ref()
                .and_then(|s| s.players.get(index))
                .map(|p| p.code.clone())
        });
        let Some(server) = server else { return };
        let in_flight = self
            .sent
            .get_value()
            .saturating_sub(self.socket.edit_acks.get_untracked());
        if in_flight == 0 && self.base.with_value(|b| *b != server) {
            self.base.set_value(server);
        }
        let text = self.code.get_untracked();
        let Some(edit) = self.base.with_value(|b| diff(b, &text)) else {
            return;
        };
        for piece in pieces(edit, MAX_INSERT_BYTES) {
            if !self.socket.play(PlayerAction::Edit {
                edits: vec![piece.clone()],
            }) {
                return;
            }
            self.sent.update_value(|n| *n += 1);
            self.base.update_value(|b| {
                if piece.apply(b, MAX_SOURCE_BYTES).is_err() {
                    // Cannot happen (the piece came from this text); if it
                    // did, the server's copy becomes the base once answered.
                    b.clear();
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(old: &str, new: &str) {
        let mut doc = old.to_owned();
        if let Some(edit) = diff(old, new) {
            for piece in pieces(edit, 3) {
                assert!(piece.insert.len() <= 4, "{piece:?}");
                piece.apply(&mut doc, 1 << 20).expect("fits");
            }
        }
        assert_eq!(doc, new, "{old:?} -> {new:?}");
    }

    #[test]
    fn a_diff_keeps_the_common_prefix_and_suffix() {
        let edit = diff("print(1)", "print(42)").expect("differs");
        assert_eq!(
            edit,
            TextEdit {
                at: 6,
                delete: 1,
                insert: "42".into()
            }
        );
        assert_eq!(diff("same", "same"), None);
    }

    #[test]
    fn a_diff_never_splits_a_character() {
        let texts = [
            "",
            "a",
            "é",
            "ê",
            "ée",
            "eé",
            "x = 'é'\n",
            "x = 'ê'\n",
            "日本語",
            "日本",
            "本語",
            "🦀🦀",
            "🦀a🦀",
            "aaaa",
            "aaa",
        ];
        for old in texts {
            for new in texts {
                roundtrip(old, new);
            }
        }
    }

    #[test]
    fn a_large_paste_goes_out_in_pieces_that_apply_in_order() {
        let big = "é".repeat(MAX_INSERT_BYTES);
        let edit = diff("ab", &format!("a{big}b")).expect("differs");
        let parts = pieces(edit, MAX_INSERT_BYTES);
        assert_eq!(parts.len(), 2);
        let mut doc = "ab".to_owned();
        for part in parts {
            assert!(part.insert.len() <= MAX_INSERT_BYTES);
            part.apply(&mut doc, 1 << 20).expect("fits");
        }
        assert_eq!(doc, format!("a{big}b"));
    }
}
