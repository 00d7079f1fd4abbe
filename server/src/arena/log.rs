//! A battle's live log in Redis: the fenced append (stream entry + publish in
//! one script), the owner and epoch keys, and reading the log back.
//!
//! The append is a Lua script so that the epoch check, the seq check, the
//! stream entry and the publish happen as one step: an owner whose epoch is not
//! the battle's current one appends nothing, and no seq is skipped or repeated.
//! One call appends many deltas, of any battles (see `appender`), each checked
//! on its own; those appended are published as one message of frames.
//! The stream is trimmed to about [`LOG_LEN`] entries; older deltas are in
//! PostgreSQL.

use crate::redis::{KeyPrefix, Redis};
use eduscale_core::battle::Delta;
use fred::bytes::Bytes;
use fred::prelude::*;
use fred::types::scripts::Script;
use std::sync::LazyLock;
use uuid::Uuid;

/// About how many deltas a battle's stream keeps.
pub const LOG_LEN: u64 = 1_000;

/// The keys of one battle.
pub(crate) struct Keys {
    epoch: String,
    seq: String,
    log: String,
    owner: String,
}

impl Keys {
    pub(crate) fn new(prefix: &KeyPrefix, battle: u64) -> Keys {
        let key = |what: &str| prefix.key(&format!("arena:battle:{battle}:{what}"));
        Keys {
            epoch: key("epoch"),
            seq: key("seq"),
            log: key("log"),
            owner: key("owner"),
        }
    }
}

/// The channel every delta of every battle is published on.
pub(crate) fn deltas_channel(prefix: &KeyPrefix) -> String {
    prefix.key("arena:deltas")
}

/// The channel an instance hears forwarded commands on.
pub(crate) fn instance_channel(prefix: &KeyPrefix, instance: Uuid) -> String {
    prefix.key(&format!("arena:instance:{instance}"))
}

/// Appends many deltas, of any battles, each only if its epoch is current and
/// its seq follows its log's last: `KEYS` in threes (epoch, seq, log key),
/// `ARGV` the channel and the log's length, then threes (epoch, seq, delta).
/// One answer per delta (1 appended, -1 fenced, -2 out of order); the deltas
/// appended are published together, as one message of length-prefixed frames
/// (see [`frames`]).
static APPEND: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        r#"
        local channel, maxlen = ARGV[1], ARGV[2]
        local out, frames = {}, {}
        for i = 1, #KEYS / 3 do
            local epoch, seq, delta = ARGV[3 * i], ARGV[3 * i + 1], ARGV[3 * i + 2]
            if redis.call('GET', KEYS[3 * i - 2]) ~= epoch then
                out[i] = -1
            elseif tonumber(seq) ~= tonumber(redis.call('GET', KEYS[3 * i - 1]) or '0') + 1 then
                out[i] = -2
            else
                redis.call('SET', KEYS[3 * i - 1], seq)
                redis.call('XADD', KEYS[3 * i], 'MAXLEN', '~', maxlen, seq .. '-1', 'd', delta)
                local n = #delta
                frames[#frames + 1] = string.char(math.floor(n / 16777216) % 256,
                    math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256) .. delta
                out[i] = 1
            end
        end
        if #frames > 0 then redis.call('PUBLISH', channel, table.concat(frames)) end
        return out
        "#,
    )
});

static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        r#"
        local current = tonumber(redis.call('GET', KEYS[1]) or '0')
        if tonumber(ARGV[1]) <= current then return 0 end
        redis.call('SET', KEYS[1], ARGV[1])
        redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
        return 1
        "#,
    )
});

/// Sets the log's last seq if `ARGV[1]` is the current epoch.
static SET_SEQ: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        r#"
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('SET', KEYS[2], ARGV[2])
        return 1
        "#,
    )
});

/// Refreshes the owner key of many battles, each only while its epoch is
/// current: `KEYS` in pairs (epoch key, owner key), `ARGV` the epochs then the
/// instance and the TTL; one answer (1 refreshed, 0 fenced) per battle.
static REFRESH_OWNERS: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        r#"
        local n = #KEYS / 2
        local instance, ttl = ARGV[n + 1], ARGV[n + 2]
        local out = {}
        for i = 1, n do
            if redis.call('GET', KEYS[2 * i - 1]) == ARGV[i] then
                redis.call('SET', KEYS[2 * i], instance, 'PX', ttl)
                out[i] = 1
            else
                out[i] = 0
            end
        end
        return out
        "#,
    )
});

/// How many battles one batched call ([`REFRESH_OWNERS`], an MGET) carries:
/// Redis serves one command at a time, so a call is kept to about a
/// millisecond of its time.
const PER_CALL: usize = 1_000;

static FORGET: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        r#"
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        if redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
        return redis.call('DEL', KEYS[2])
        "#,
    )
});

/// What an append came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// In the log and published.
    Done,
    /// Another owner's epoch is current: nothing written.
    Fenced,
    /// The seq does not follow the log's last: nothing written.
    OutOfOrder,
}

/// One delta to append: its battle's epoch as its owner holds it, and its
/// postcard encoding.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The owner's epoch.
    pub epoch: i64,
    /// The battle.
    pub battle: u64,
    /// The delta's seq.
    pub seq: u64,
    /// The delta, in postcard.
    pub encoded: Bytes,
}

/// Appends every entry whose epoch is current and whose seq follows its log's
/// last, in one script call, and publishes those appended as one message; what
/// each came to, in order. Entries of one battle must be in seq order.
pub async fn append_many(redis: &Redis, entries: &[Entry]) -> Result<Vec<Appended>, Error> {
    let mut keys = Vec::with_capacity(3 * entries.len());
    let mut args = Vec::with_capacity(2 + 3 * entries.len());
    args.push(Value::from(deltas_channel(&redis.prefix)));
    args.push(Value::from(LOG_LEN as i64));
    for entry in entries {
        let k = Keys::new(&redis.prefix, entry.battle);
        keys.extend([k.epoch, k.seq, k.log]);
        args.extend([
            Value::from(entry.epoch),
            Value::from(entry.seq as i64),
            Value::Bytes(entry.encoded.clone()),
        ]);
    }
    let answers: Vec<i64> = APPEND
        .evalsha_with_reload(redis.pool.next(), keys, args)
        .await?;
    Ok(answers
        .into_iter()
        .map(|a| match a {
            1 => Appended::Done,
            -2 => Appended::OutOfOrder,
            _ => Appended::Fenced,
        })
        .collect())
}

/// The deltas in one message of the deltas channel: frames of a 4-byte
/// big-endian length and that many bytes (a delta in postcard). A truncated
/// last frame is left out.
pub(crate) fn frames(message: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = message;
    std::iter::from_fn(move || {
        let (len, tail) = rest.split_first_chunk::<4>()?;
        let len = u32::from_be_bytes(*len) as usize;
        let frame = tail.get(..len)?;
        rest = &tail[len..];
        Some(frame)
    })
}

/// Makes `epoch` the battle's current one in Redis and `instance` its owner
/// for `ttl_ms`; false if a later epoch is already there.
pub async fn claim(
    redis: &Redis,
    battle: u64,
    epoch: i64,
    instance: Uuid,
    ttl_ms: u64,
) -> Result<bool, Error> {
    let keys = Keys::new(&redis.prefix, battle);
    let claimed: i64 = CLAIM
        .evalsha_with_reload(
            redis.pool.next(),
            vec![keys.epoch, keys.owner],
            vec![
                Value::from(epoch),
                Value::from(instance.to_string()),
                Value::from(ttl_ms as i64),
            ],
        )
        .await?;
    Ok(claimed == 1)
}

/// Refreshes the owner key of every (battle, epoch) in `owned` whose epoch is
/// still current, a thousand per script; whether each was.
pub async fn refresh_owners(
    redis: &Redis,
    owned: &[(u64, i64)],
    instance: Uuid,
    ttl_ms: u64,
) -> Result<Vec<bool>, Error> {
    let instance = instance.to_string();
    let mut kept = Vec::with_capacity(owned.len());
    for chunk in owned.chunks(PER_CALL) {
        let mut keys = Vec::with_capacity(2 * chunk.len());
        for (battle, _) in chunk {
            let k = Keys::new(&redis.prefix, *battle);
            keys.push(k.epoch);
            keys.push(k.owner);
        }
        let mut args: Vec<Value> = chunk.iter().map(|(_, epoch)| Value::from(*epoch)).collect();
        args.push(Value::from(instance.as_str()));
        args.push(Value::from(ttl_ms as i64));
        let answers: Vec<i64> = REFRESH_OWNERS
            .evalsha_with_reload(redis.pool.next(), keys, args)
            .await?;
        kept.extend(answers.into_iter().map(|a| a == 1));
    }
    Ok(kept)
}

/// The owners of `battles` now, in order (`None`: nobody holds it).
pub async fn owners(redis: &Redis, battles: &[u64]) -> Result<Vec<Option<Uuid>>, Error> {
    let mut found = Vec::with_capacity(battles.len());
    for chunk in battles.chunks(PER_CALL) {
        let keys: Vec<String> = chunk
            .iter()
            .map(|b| Keys::new(&redis.prefix, *b).owner)
            .collect();
        let owners: Vec<Option<String>> = redis.pool.mget(keys).await?;
        found.extend(owners.into_iter().map(|o| o.and_then(|o| o.parse().ok())));
    }
    Ok(found)
}

/// Deletes the owner key if it still names `instance` under `epoch`.
pub async fn forget_owner(
    redis: &Redis,
    battle: u64,
    epoch: i64,
    instance: Uuid,
) -> Result<(), Error> {
    let keys = Keys::new(&redis.prefix, battle);
    let _: i64 = FORGET
        .evalsha_with_reload(
            redis.pool.next(),
            vec![keys.epoch, keys.owner],
            vec![Value::from(epoch), Value::from(instance.to_string())],
        )
        .await?;
    Ok(())
}

/// Sets the log's last seq (after a rebuild) while `epoch` is current.
pub async fn set_seq(redis: &Redis, battle: u64, epoch: i64, seq: u64) -> Result<bool, Error> {
    let keys = Keys::new(&redis.prefix, battle);
    let set: i64 = SET_SEQ
        .evalsha_with_reload(
            redis.pool.next(),
            vec![keys.epoch, keys.seq],
            vec![Value::from(epoch), Value::from(seq as i64)],
        )
        .await?;
    Ok(set == 1)
}

/// Whether `epoch` is the battle's current one in the log (what every append
/// is checked against).
pub async fn is_current(redis: &Redis, battle: u64, epoch: i64) -> Result<bool, Error> {
    let keys = Keys::new(&redis.prefix, battle);
    let current: Option<i64> = redis.pool.get(keys.epoch).await?;
    Ok(current == Some(epoch))
}

/// The instance that owns the battle now, if any.
pub async fn owner(redis: &Redis, battle: u64) -> Result<Option<Uuid>, Error> {
    let keys = Keys::new(&redis.prefix, battle);
    let owner: Option<String> = redis.pool.get(keys.owner).await?;
    Ok(owner.and_then(|o| o.parse().ok()))
}

/// The deltas in the log after `after`, in order, and whether the log still
/// reaches back that far (false: it was trimmed past `after`).
pub async fn read_after(
    redis: &Redis,
    battle: u64,
    after: u64,
) -> Result<(Vec<Delta>, bool), Error> {
    let keys = Keys::new(&redis.prefix, battle);
    let raw: Value = redis
        .pool
        .xrange(&keys.log, format!("{}-1", after), "+", None)
        .await?;
    let mut deltas = Vec::new();
    if let Value::Array(entries) = raw {
        for entry in entries {
            let Value::Array(parts) = entry else { continue };
            let Some(Value::Array(fields)) = parts.get(1) else {
                continue;
            };
            if let Some(bytes) = fields.get(1).and_then(|v| v.as_bytes())
                && let Ok(delta) = postcard::from_bytes::<Delta>(bytes)
                && delta.seq > after
            {
                deltas.push(delta);
            }
        }
    }
    // Covered if the log holds `after` itself (or nothing came before it).
    let covered = after == 0
        || deltas.first().is_none_or(|d| d.seq == after + 1) && {
            let first: Value = redis.pool.xrange(&keys.log, "-", "+", Some(1)).await?;
            first_seq(&first).is_some_and(|s| s <= after + 1)
        };
    Ok((deltas, covered))
}

fn first_seq(raw: &Value) -> Option<u64> {
    let Value::Array(entries) = raw else {
        return None;
    };
    let Value::Array(parts) = entries.first()? else {
        return None;
    };
    let id = parts.first()?.as_str()?;
    id.split('-').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::{Heard, KeyPrefix};
    use eduscale_core::battle::Op;
    use tokio::sync::mpsc;

    fn frame(bytes: &[u8]) -> Vec<u8> {
        let mut out = (bytes.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn frames_split_a_message_and_leave_out_a_truncated_tail() {
        let mut message = frame(b"one");
        message.extend(frame(b""));
        message.extend(frame(&[7; 300]));
        let whole: Vec<&[u8]> = frames(&message).collect();
        assert_eq!(whole, vec![&b"one"[..], &b""[..], &[7; 300][..]]);
        message.extend(frame(b"cut short"));
        message.truncate(message.len() - 2);
        assert_eq!(frames(&message).count(), 3);
        assert_eq!(frames(&[0, 0]).count(), 0);
    }

    fn delta(battle: u64, seq: u64) -> Delta {
        Delta {
            battle,
            seq,
            ops: vec![Op::Spectators(seq as u32)],
            state_hash: eduscale_core::battle::StateHash(seq),
        }
    }

    /// Each delta of a batch is fenced and ordered on its own; only those
    /// appended are logged and published, in one message.
    #[tokio::test]
    async fn a_batch_appends_each_delta_that_its_own_epoch_and_seq_allow() {
        let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
        let prefix = KeyPrefix::new(&format!("test:{}:", Uuid::new_v4()));
        let redis = Redis::connect(&url, 1, prefix)
            .await
            .expect("Redis for tests");
        let (tx, mut heard) = mpsc::unbounded_channel();
        redis
            .listen(deltas_channel(&redis.prefix), move |h| {
                if let Heard::Message(v) = h {
                    let _ = tx.send(v.as_bytes().map(<[u8]>::to_vec).unwrap_or_default());
                }
            })
            .await
            .expect("listen");
        // Battle 1 at epoch 3, battle 2 at epoch 5.
        assert!(
            claim(&redis, 1, 3, Uuid::new_v4(), 60_000)
                .await
                .expect("claim")
        );
        assert!(
            claim(&redis, 2, 5, Uuid::new_v4(), 60_000)
                .await
                .expect("claim")
        );
        let entry = |epoch, battle, seq| Entry {
            epoch,
            battle,
            seq,
            encoded: Bytes::from(postcard::to_allocvec(&delta(battle, seq)).expect("encode")),
        };
        let answers = append_many(
            &redis,
            &[
                entry(3, 1, 1),
                entry(4, 2, 1), // an old owner of battle 2
                entry(3, 1, 2),
                entry(5, 2, 2), // skips seq 1
                entry(5, 2, 1),
            ],
        )
        .await
        .expect("append");
        assert_eq!(
            answers,
            [
                Appended::Done,
                Appended::Fenced,
                Appended::Done,
                Appended::OutOfOrder,
                Appended::Done
            ]
        );
        let message = tokio::time::timeout(std::time::Duration::from_secs(5), heard.recv())
            .await
            .expect("published in time")
            .expect("a message");
        let published: Vec<(u64, u64)> = frames(&message)
            .map(|b| postcard::from_bytes::<Delta>(b).expect("a delta"))
            .map(|d| (d.battle, d.seq))
            .collect();
        assert_eq!(published, [(1, 1), (1, 2), (2, 1)]);
        let (logged, covered) = read_after(&redis, 1, 0).await.expect("read");
        assert!(covered);
        assert_eq!(logged.iter().map(|d| d.seq).collect::<Vec<_>>(), [1, 2]);
        let (logged, _) = read_after(&redis, 2, 0).await.expect("read");
        assert_eq!(logged.iter().map(|d| d.seq).collect::<Vec<_>>(), [1]);
        // Nothing to publish: no message.
        let answers = append_many(&redis, &[entry(4, 2, 2)])
            .await
            .expect("append");
        assert_eq!(answers, [Appended::Fenced]);
        let keys: Vec<String> = redis
            .pool
            .custom(
                fred::cmd!("KEYS"),
                vec![format!("{}*", redis.prefix.as_str())],
            )
            .await
            .expect("keys");
        let _: i64 = redis.pool.del(keys).await.expect("clean up");
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(200), heard.recv())
                .await
                .is_err()
        );
        redis.quit().await;
    }
}
