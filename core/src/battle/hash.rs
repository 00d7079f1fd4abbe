//! The hash that proves a client holds the server's state.
//!
//! xxh3 (64-bit) over the postcard encoding of the whole state: postcard writes
//! fields in declaration order and sequences in their order, and the state holds
//! no maps, so equal states always encode, and hash, the same. xxh3 runs at
//! memory speed, so hashing a battle with a dozen documents costs microseconds.
//! This guards against bugs and lost messages, not attackers: the deltas come
//! from our own server over its own socket.

use super::BattleState;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::cell::RefCell;
use std::fmt;

/// The hash of a battle's state after a delta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StateHash(pub u64);

impl StateHash {
    /// The hash of `state`.
    pub fn of(state: &BattleState) -> StateHash {
        // Every copy hashes after every delta (the owner, each instance's
        // follower, each browser): one buffer per thread, not an allocation each.
        thread_local! {
            static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        BUFFER.with_borrow_mut(|buffer| {
            buffer.clear();
            // Encoding a state cannot fail: it holds strings, numbers, options
            // and vectors only. A partial buffer would just make the hash disagree.
            let _ = postcard::serialize_with_flavor(state, Appending(buffer));
            StateHash(xxhash_rust::xxh3::xxh3_64(buffer))
        })
    }
}

/// postcard's output into a reused vector. Its own `to_extend` copies a slice
/// (a player's code) byte by byte; this copies it whole.
struct Appending<'a>(&'a mut Vec<u8>);

impl postcard::ser_flavors::Flavor for Appending<'_> {
    type Output = ();

    fn try_push(&mut self, byte: u8) -> postcard::Result<()> {
        self.0.push(byte);
        Ok(())
    }

    fn try_extend(&mut self, bytes: &[u8]) -> postcard::Result<()> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }

    fn finalize(self) -> postcard::Result<()> {
        Ok(())
    }
}

impl fmt::Display for StateHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// In JSON a hex string, because JavaScript numbers cannot hold 64 bits; in
/// postcard the plain number.
impl Serialize for StateHash {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.collect_str(self)
        } else {
            s.serialize_u64(self.0)
        }
    }
}

impl<'de> Deserialize<'de> for StateHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let text = String::deserialize(d)?;
            u64::from_str_radix(&text, 16)
                .map(StateHash)
                .map_err(|_| serde::de::Error::custom("a state hash is 16 hex digits"))
        } else {
            u64::deserialize(d).map(StateHash)
        }
    }
}
