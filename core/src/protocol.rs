//! Every message between a browser (or a bot) and the server's WebSocket.
//!
//! Versioned: a client names the version in the subprotocol it asks for, and
//! the server's first message repeats it. Binary (postcard) by default, because
//! the WASM client decodes it with this very crate; JSON when the socket asks for
//! [`JSON_SUBPROTOCOL`], so a bot in any language can talk. Enums are tagged
//! externally (`{"ping":{"nonce":1}}`), the one serde shape both encodings carry.
//!
//! Decoding never panics: a frame that is too large or malformed becomes a
//! [`ProtocolError`] with words the client can show.

use crate::battle::{BattleState, Delta, Refusal, TextEdit};
use crate::code::{Judgement, Language};
use crate::insights::report::Pulse;
use crate::paths::NodeStatus;
use serde::{Deserialize, Serialize};

/// The protocol version this build speaks.
pub const VERSION: u16 = 1;
/// The subprotocol of binary (postcard) frames.
pub const BINARY_SUBPROTOCOL: &str = "eduscale.v1";
/// The subprotocol of JSON text frames.
pub const JSON_SUBPROTOCOL: &str = "eduscale.v1.json";
/// The largest frame a client may send.
pub const MAX_CLIENT_FRAME_BYTES: usize = 16 << 10;

/// How the frames of one socket are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// postcard in binary frames.
    Binary,
    /// JSON in text frames.
    Json,
}

impl Encoding {
    /// The encoding a negotiated subprotocol stands for (binary when none was).
    pub fn for_subprotocol(protocol: Option<&str>) -> Encoding {
        if protocol == Some(JSON_SUBPROTOCOL) {
            Encoding::Json
        } else {
            Encoding::Binary
        }
    }
}

/// One encoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame (JSON).
    Text(String),
    /// A binary frame (postcard).
    Binary(Vec<u8>),
}

/// What a client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientMsg {
    /// Are you there? Answered with [`ServerMsg::Pong`] carrying the same nonce.
    Ping {
        /// Echoed back.
        nonce: u64,
    },
    /// Follow a battle: its deltas from now on, after what the client holds.
    /// Players and spectators alike; a public battle can be watched by anyone
    /// signed in, a private one by its players.
    Watch {
        /// The battle.
        battle: u64,
        /// The seq the client holds, to catch up from; `None` for a snapshot.
        have: Option<u64>,
    },
    /// Stop following a battle.
    Unwatch {
        /// The battle.
        battle: u64,
    },
    /// A player's move in a battle.
    Play {
        /// The battle.
        battle: u64,
        /// The move.
        action: PlayerAction,
    },
    /// Find me a 1v1 opponent writing `language`, near my rating.
    QuickMatch {
        /// The language to battle in.
        language: Language,
    },
    /// Stop looking for an opponent.
    CancelMatch,
    /// Instructors and admins: receive a scope's live pulse every second (one
    /// scope per socket; watching another replaces it).
    WatchPulse {
        /// A cohort the caller teaches, or `insights::report::PLATFORM` (admins).
        scope: String,
    },
    /// Stop the pulse.
    UnwatchPulse,
}

/// A player's move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlayerAction {
    /// Take a seat in the lobby.
    Join {
        /// The language I write in.
        language: Language,
    },
    /// Leave the lobby, or forfeit a running battle.
    Leave,
    /// Ready (or not) to start.
    Ready {
        /// Ready?
        ready: bool,
    },
    /// I typed (a batch of edits to my code, in order).
    Edit {
        /// The edits.
        edits: Vec<TextEdit>,
    },
    /// Run my code on the visible tests (only I see the result).
    Run,
    /// Submit my code to be judged on the hidden tests.
    Submit,
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerMsg {
    /// The first message on every socket.
    Welcome {
        /// The protocol version spoken.
        version: u16,
        /// Who the server knows this socket as.
        user: String,
    },
    /// The answer to a [`ClientMsg::Ping`].
    Pong {
        /// The ping's nonce.
        nonce: u64,
    },
    /// The learner's progress on a path changed (from any tab or device).
    PathProgress(PathUpdate),
    /// A battle's whole state (on watch without a usable seq, or after a gap
    /// the log no longer covers).
    BattleSnapshot(Box<BattleState>),
    /// The next change to a watched battle.
    BattleDelta(Delta),
    /// A player's move was refused (only that player hears it).
    BattleRefused {
        /// The battle.
        battle: u64,
        /// Why.
        refusal: Refusal,
    },
    /// My run of the visible tests finished (only I hear it).
    BattleRun {
        /// The battle.
        battle: u64,
        /// The judgement on the visible tests, with diffs.
        judgement: Box<Judgement>,
    },
    /// My submission was judged (only I hear it; the standings move for all).
    BattleVerdict {
        /// The battle.
        battle: u64,
        /// Hidden tests passed.
        hidden_passed: u16,
        /// Hidden tests in all.
        hidden_total: u16,
        /// Received after the battle closed: kept, but it changed nothing.
        too_late: bool,
    },
    /// Quick match found an opponent: watch and join this battle.
    Matched {
        /// The battle.
        battle: u64,
    },
    /// Messages were missed (the client was too slow): fetch the state again.
    Resync {
        /// Why, for logs.
        reason: String,
    },
    /// The last frame was refused.
    Error {
        /// A stable code for programs.
        code: ErrorCode,
        /// Words for people.
        message: String,
    },
    /// A watched scope's live counters (every second while watched).
    Pulse {
        /// The scope.
        scope: String,
        /// The counters.
        pulse: Pulse,
    },
}

/// The learner's statuses on one path after a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathUpdate {
    /// The path's slug.
    pub path: String,
    /// Every node's status, by position.
    pub statuses: Vec<NodeStatus>,
    /// Positions that just opened.
    pub unlocked: Vec<usize>,
    /// The node recommended next, by position.
    pub recommended: Option<usize>,
}

/// Why a frame was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Not a message of this protocol version.
    Malformed,
    /// Larger than [`MAX_CLIENT_FRAME_BYTES`].
    TooLarge,
    /// Too many messages too fast.
    RateLimited,
    /// A text frame on a binary socket, or the other way round.
    WrongEncoding,
    /// No such battle.
    UnknownBattle,
    /// Not allowed: a spectator or a stranger sending a player's move, or
    /// watching a private battle.
    Forbidden,
    /// The server could not do it now (try again).
    Unavailable,
    /// No such cohort (watching a pulse).
    UnknownScope,
}

/// Why a frame could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// Larger than allowed.
    #[error("frame of {0} bytes is over the {MAX_CLIENT_FRAME_BYTES}-byte limit")]
    TooLarge(usize),
    /// A text frame on a binary socket, or the other way round.
    #[error("this socket speaks {0:?} frames")]
    WrongEncoding(Encoding),
    /// Not a message.
    #[error("not a message: {0}")]
    Malformed(String),
}

impl ProtocolError {
    /// The code sent back for it.
    pub fn code(&self) -> ErrorCode {
        match self {
            ProtocolError::TooLarge(_) => ErrorCode::TooLarge,
            ProtocolError::WrongEncoding(_) => ErrorCode::WrongEncoding,
            ProtocolError::Malformed(_) => ErrorCode::Malformed,
        }
    }
}

/// Encodes `msg` for a socket speaking `encoding`.
pub fn encode<T: Serialize>(msg: &T, encoding: Encoding) -> Frame {
    match encoding {
        // Our message types hold only strings, numbers, vectors and enums, which
        // both encoders accept; an error here would be a bug in this module.
        Encoding::Json => Frame::Text(serde_json::to_string(msg).unwrap_or_default()),
        Encoding::Binary => Frame::Binary(postcard::to_allocvec(msg).unwrap_or_default()),
    }
}

/// `ServerMsg::BattleDelta`'s place among the messages: what postcard writes
/// before the delta (one byte, as a varint under 128).
const BATTLE_DELTA_INDEX: u32 = 4;

/// `ServerMsg::BattleDelta` by reference: the server sends each delta to
/// thousands of sockets and encodes it without copying it into a message.
struct DeltaMsg<'a>(&'a Delta);

impl Serialize for DeltaMsg<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_newtype_variant("ServerMsg", BATTLE_DELTA_INDEX, "battle_delta", self.0)
    }
}

/// Encodes `ServerMsg::BattleDelta(delta)` for a socket speaking `encoding`.
pub fn encode_delta(delta: &Delta, encoding: Encoding) -> Frame {
    encode(&DeltaMsg(delta), encoding)
}

/// The binary frame of `ServerMsg::BattleDelta(delta)` from `delta`'s own
/// postcard encoding (as the arena publishes it), without decoding it again.
pub fn delta_frame(delta_postcard: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(1 + delta_postcard.len());
    frame.push(BATTLE_DELTA_INDEX as u8);
    frame.extend_from_slice(delta_postcard);
    frame
}

/// Decodes one frame from a socket speaking `encoding`.
pub fn decode<T: for<'de> Deserialize<'de>>(
    frame: &Frame,
    encoding: Encoding,
) -> Result<T, ProtocolError> {
    let len = match frame {
        Frame::Text(t) => t.len(),
        Frame::Binary(b) => b.len(),
    };
    if len > MAX_CLIENT_FRAME_BYTES {
        return Err(ProtocolError::TooLarge(len));
    }
    match (frame, encoding) {
        (Frame::Text(text), Encoding::Json) => {
            serde_json::from_str(text).map_err(|e| ProtocolError::Malformed(e.to_string()))
        }
        (Frame::Binary(bytes), Encoding::Binary) => {
            postcard::from_bytes(bytes).map_err(|e| ProtocolError::Malformed(e.to_string()))
        }
        _ => Err(ProtocolError::WrongEncoding(encoding)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_delta_encoded_by_reference_is_the_message_s_own_encoding() {
        let delta = Delta {
            battle: 9,
            seq: 300,
            ops: vec![crate::battle::Op::Edit {
                player: 1,
                edit: TextEdit {
                    at: 2,
                    delete: 1,
                    insert: "é\n".into(),
                },
            }],
            state_hash: crate::battle::StateHash(u64::MAX - 3),
        };
        let msg = ServerMsg::BattleDelta(delta.clone());
        for encoding in [Encoding::Binary, Encoding::Json] {
            assert_eq!(encode_delta(&delta, encoding), encode(&msg, encoding));
        }
        let published = postcard::to_allocvec(&delta).expect("encodes");
        assert_eq!(
            Frame::Binary(delta_frame(&published)),
            encode(&msg, Encoding::Binary)
        );
    }

    #[test]
    fn bots_speak_plain_json() {
        let msg: ClientMsg = decode(
            &Frame::Text(r#"{"ping":{"nonce":7}}"#.into()),
            Encoding::Json,
        )
        .expect("ping");
        assert_eq!(msg, ClientMsg::Ping { nonce: 7 });
        let Frame::Text(text) = encode(&ServerMsg::Pong { nonce: 7 }, Encoding::Json) else {
            panic!("json is text")
        };
        assert_eq!(text, r#"{"pong":{"nonce":7}}"#);
    }

    #[test]
    fn bots_play_battles_in_plain_json() {
        let ready: ClientMsg = decode(
            &Frame::Text(r#"{"play":{"battle":3,"action":{"ready":{"ready":true}}}}"#.into()),
            Encoding::Json,
        )
        .expect("ready");
        assert_eq!(
            ready,
            ClientMsg::Play {
                battle: 3,
                action: PlayerAction::Ready { ready: true }
            }
        );
        let submit: ClientMsg = decode(
            &Frame::Text(r#"{"play":{"battle":3,"action":"submit"}}"#.into()),
            Encoding::Json,
        )
        .expect("submit");
        assert_eq!(
            submit,
            ClientMsg::Play {
                battle: 3,
                action: PlayerAction::Submit
            }
        );
        let watch: ClientMsg = decode(
            &Frame::Text(r#"{"watch":{"battle":3,"have":null}}"#.into()),
            Encoding::Json,
        )
        .expect("watch");
        assert_eq!(
            watch,
            ClientMsg::Watch {
                battle: 3,
                have: None
            }
        );
    }

    #[test]
    fn every_server_message_survives_both_encodings() {
        let msgs = [
            ServerMsg::Welcome {
                version: VERSION,
                user: "u".into(),
            },
            ServerMsg::PathProgress(PathUpdate {
                path: "p".into(),
                statuses: vec![NodeStatus::Passed, NodeStatus::Open, NodeStatus::Locked],
                unlocked: vec![1],
                recommended: Some(1),
            }),
            ServerMsg::Error {
                code: ErrorCode::Malformed,
                message: "m".into(),
            },
        ];
        for msg in msgs {
            for encoding in [Encoding::Json, Encoding::Binary] {
                let back: ServerMsg =
                    decode(&encode(&msg, encoding), encoding).expect("round trip");
                assert_eq!(back, msg);
            }
        }
    }

    #[test]
    fn bad_frames_are_errors_not_panics() {
        let too_big = Frame::Text("x".repeat(MAX_CLIENT_FRAME_BYTES + 1));
        assert_eq!(
            decode::<ClientMsg>(&too_big, Encoding::Json)
                .unwrap_err()
                .code(),
            ErrorCode::TooLarge
        );
        let garbage = Frame::Binary(vec![0xff, 0xff, 0xff]);
        assert_eq!(
            decode::<ClientMsg>(&garbage, Encoding::Binary)
                .unwrap_err()
                .code(),
            ErrorCode::Malformed
        );
        let wrong = Frame::Text("{}".into());
        assert_eq!(
            decode::<ClientMsg>(&wrong, Encoding::Binary)
                .unwrap_err()
                .code(),
            ErrorCode::WrongEncoding
        );
        let unknown = Frame::Text(r#"{"launch":{}}"#.into());
        assert_eq!(
            decode::<ClientMsg>(&unknown, Encoding::Json)
                .unwrap_err()
                .code(),
            ErrorCode::Malformed
        );
    }
}
