//! What the host gives one guest run: its WASI context, its stdin, its captured
//! output and its memory meter.
//!
//! `fd_read` and `fd_write` are our own rather than wasmtime-wasi's: stdin comes
//! from memory, and output past the cap must *stop* the guest. With wasmtime-wasi's
//! pipes a full pipe only fails the write, and QuickJS ignores the error and
//! spins until the deadline. Every other WASI call is wasmtime-wasi's, over a
//! context with no preopened directories, no environment and no network.

use wasmtime::{Caller, Extern, Linker, ResourceLimiter};
use wasmtime_wasi::p1::WasiP1Ctx;

const ERRNO_SUCCESS: i32 = 0;
const ERRNO_BADF: i32 = 8;
const ERRNO_FAULT: i32 = 21;

/// Raised (as a trap) by the first write past the output cap.
#[derive(Debug, thiserror::Error)]
#[error("output limit exceeded")]
pub struct OutputLimitExceeded;

/// The store's data for one run.
pub struct HostState {
    /// wasmtime-wasi's preview-1 context (clocks, random, args, fd table).
    pub wasi: WasiP1Ctx,
    /// Stdin and the captured output.
    pub io: Stdio,
    /// The memory limit and high-water mark.
    pub meter: MemoryMeter,
}

/// Stdin from memory; stdout and stderr captured up to one shared cap.
#[derive(Debug, Default)]
pub struct Stdio {
    stdin: Vec<u8>,
    read: usize,
    /// What the guest wrote to fd 1.
    pub stdout: Vec<u8>,
    /// What the guest wrote to fd 2.
    pub stderr: Vec<u8>,
    cap: usize,
    /// Whether the guest tried to write past the cap.
    pub overflowed: bool,
}

impl Stdio {
    /// `stdin` to read, and at most `cap` bytes of output.
    pub fn new(stdin: Vec<u8>, cap: usize) -> Stdio {
        Stdio {
            stdin,
            cap,
            ..Stdio::default()
        }
    }

    fn write(&mut self, fd: i32, bytes: &[u8]) -> Result<(), OutputLimitExceeded> {
        let room = self
            .cap
            .saturating_sub(self.stdout.len() + self.stderr.len());
        let take = bytes.len().min(room);
        let sink = if fd == 1 {
            &mut self.stdout
        } else {
            &mut self.stderr
        };
        sink.extend_from_slice(&bytes[..take]);
        if take < bytes.len() {
            self.overflowed = true;
            return Err(OutputLimitExceeded);
        }
        Ok(())
    }
}

/// Limits linear memory and remembers its peak.
#[derive(Debug)]
pub struct MemoryMeter {
    limit: usize,
    /// The most linear memory the guest held, in bytes.
    pub peak: usize,
    /// Whether a growth was refused.
    pub hit_limit: bool,
}

impl MemoryMeter {
    /// A meter refusing growth past `limit` bytes.
    pub fn new(limit: usize) -> MemoryMeter {
        MemoryMeter {
            limit,
            peak: 0,
            hit_limit: false,
        }
    }
}

impl ResourceLimiter for MemoryMeter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limit {
            // Refused, not trapped: CPython raises MemoryError and QuickJS throws,
            // so the learner sees their language's own error. The verdict still
            // says memory limit, from this flag.
            self.hit_limit = true;
            return Ok(false);
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// Adds WASI preview 1 with our own stdin and capped stdout/stderr.
pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p1::add_to_linker_async(linker, |state: &mut HostState| &mut state.wasi)?;
    linker.allow_shadowing(true);
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "fd_write",
        |mut caller: Caller<'_, HostState>, fd: i32, iovs: i32, iovs_len: i32, written: i32| {
            if fd != 1 && fd != 2 {
                return Ok(ERRNO_BADF);
            }
            let Some((memory, state, vectors)) = guest_buffers(&mut caller, iovs, iovs_len) else {
                return Ok(ERRNO_FAULT);
            };
            let mut total: u32 = 0;
            for (start, len) in vectors {
                state.io.write(fd, &memory[start..start + len])?;
                total = total.saturating_add(len as u32);
            }
            Ok(store_u32(memory, written, total))
        },
    )?;
    linker.func_wrap(
        "wasi_snapshot_preview1",
        "fd_read",
        |mut caller: Caller<'_, HostState>, fd: i32, iovs: i32, iovs_len: i32, read: i32| {
            if fd != 0 {
                return Ok(ERRNO_BADF);
            }
            let Some((memory, state, vectors)) = guest_buffers(&mut caller, iovs, iovs_len) else {
                return Ok(ERRNO_FAULT);
            };
            let mut total = 0usize;
            for (start, len) in vectors {
                let rest = &state.io.stdin[state.io.read..];
                let n = rest.len().min(len);
                memory[start..start + n].copy_from_slice(&rest[..n]);
                state.io.read += n;
                total += n;
                if n < len {
                    break;
                }
            }
            Ok(store_u32(memory, read, total as u32))
        },
    )?;
    Ok(())
}

/// A guest's memory, the run's state, and (offset, length) buffers inside that memory.
type GuestBuffers<'a> = (&'a mut [u8], &'a mut HostState, Vec<(usize, usize)>);

/// The guest's memory, the run's state and the buffers of its iovec array; `None`
/// when the guest has no memory export or an iovec lies outside its memory.
fn guest_buffers<'a>(
    caller: &'a mut Caller<'_, HostState>,
    iovs: i32,
    count: i32,
) -> Option<GuestBuffers<'a>> {
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        return None;
    };
    let (memory, state) = memory.data_and_store_mut(caller);
    let vectors = io_vectors(memory, iovs, count)?;
    Some((memory, state, vectors))
}

/// The (offset, length) buffers of a guest's iovec array, each checked to lie
/// inside its memory; `None` when any does not.
fn io_vectors(memory: &[u8], iovs: i32, count: i32) -> Option<Vec<(usize, usize)>> {
    let (iovs, count) = (iovs as u32 as usize, count as u32 as usize);
    if count > 1024 {
        return None;
    }
    let mut vectors = Vec::with_capacity(count);
    for i in 0..count {
        let at = iovs.checked_add(i * 8)?;
        let start = load_u32(memory, at)? as usize;
        let len = load_u32(memory, at + 4)? as usize;
        if start.checked_add(len)? > memory.len() {
            return None;
        }
        vectors.push((start, len));
    }
    Some(vectors)
}

fn load_u32(memory: &[u8], at: usize) -> Option<u32> {
    let bytes = memory.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

fn store_u32(memory: &mut [u8], at: i32, value: u32) -> i32 {
    let at = at as u32 as usize;
    match at.checked_add(4).and_then(|end| memory.get_mut(at..end)) {
        Some(slot) => {
            slot.copy_from_slice(&value.to_le_bytes());
            ERRNO_SUCCESS
        }
        None => ERRNO_FAULT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_stops_at_the_cap_across_both_streams() {
        let mut io = Stdio::new(Vec::new(), 5);
        assert!(io.write(1, b"abc").is_ok());
        assert!(io.write(2, b"de").is_ok());
        assert!(io.write(1, b"f").is_err());
        assert!(io.overflowed);
        assert_eq!(
            (io.stdout.as_slice(), io.stderr.as_slice()),
            (&b"abc"[..], &b"de"[..])
        );
    }

    #[test]
    fn io_vectors_outside_memory_are_refused() {
        let mut memory = vec![0u8; 64];
        memory[0..4].copy_from_slice(&60u32.to_le_bytes());
        memory[4..8].copy_from_slice(&8u32.to_le_bytes());
        assert_eq!(io_vectors(&memory, 0, 1), None);
        memory[4..8].copy_from_slice(&4u32.to_le_bytes());
        assert_eq!(io_vectors(&memory, 0, 1), Some(vec![(60, 4)]));
        assert_eq!(io_vectors(&memory, 62, 1), None);
    }
}
