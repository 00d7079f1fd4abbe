//! A battle's live log in Redis: the fenced append (stream entry + publish in
//! one script), the owner and epoch keys, and reading the log back.
//!
//! The append is a Lua script so that the epoch check, the seq check, the
//! stream entry and the publish happen as one step: an owner whose epoch is not
//! the battle's current one appends nothing, and no seq is skipped or repeated.
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

static APPEND: LazyLock<Script> = LazyLock::new(|| {
    Script::from_lua(
        r#"
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
        local last = tonumber(redis.call('GET', KEYS[2]) or '0')
        if tonumber(ARGV[2]) ~= last + 1 then return -2 end
        redis.call('SET', KEYS[2], ARGV[2])
        redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], ARGV[2] .. '-1', 'd', ARGV[3])
        redis.call('PUBLISH', ARGV[5], ARGV[3])
        return 1
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

/// Appends `delta` to the battle's log and publishes it, if `epoch` is current.
pub async fn append(
    redis: &Redis,
    epoch: i64,
    delta: &Delta,
    encoded: Bytes,
) -> Result<Appended, Error> {
    let keys = Keys::new(&redis.prefix, delta.battle);
    let result: i64 = APPEND
        .evalsha_with_reload(
            redis.pool.next(),
            vec![keys.epoch, keys.seq, keys.log],
            vec![
                Value::from(epoch),
                Value::from(delta.seq as i64),
                Value::Bytes(encoded),
                Value::from(LOG_LEN as i64),
                Value::from(deltas_channel(&redis.prefix)),
            ],
        )
        .await?;
    Ok(match result {
        1 => Appended::Done,
        -2 => Appended::OutOfOrder,
        _ => Appended::Fenced,
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
