//! `eduscale bench ...`: measurements printed as one JSON object each. Where a
//! figure can be compared with a reference measured in the same run (a native
//! interpreter, say), the ratio is printed too: a ratio survives a noisy machine,
//! an absolute time does not.

pub mod arena;
pub mod insights;
pub mod paths;
pub mod runner;

use serde::Serialize;
use std::time::Duration;

/// The median and the 99th percentile of a sample.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 99th percentile.
    pub p99: f64,
}

impl Percentiles {
    /// Of `samples`, in the unit `unit` (e.g. 1e-3 for milliseconds).
    pub fn of(samples: &mut [Duration], unit: f64) -> Percentiles {
        samples.sort_unstable();
        let at = |q: f64| quantile(samples, q, unit);
        Percentiles {
            p50: at(0.5),
            p99: at(0.99),
        }
    }
}

/// The median and the 95th percentile of a sample.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct P95 {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
}

impl P95 {
    /// Of `samples`, in the unit `unit` (e.g. 1e-3 for milliseconds).
    pub fn of(samples: &mut [Duration], unit: f64) -> P95 {
        samples.sort_unstable();
        let at = |q: f64| quantile(samples, q, unit);
        P95 {
            p50: at(0.5),
            p95: at(0.95),
        }
    }
}

/// The `q` quantile of `sorted`, in the unit `unit` (e.g. 1e-3 for
/// milliseconds), to three decimals; 0 for no samples.
pub fn quantile(sorted: &[Duration], q: f64, unit: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted
        .get(i)
        .map_or(0.0, |d| round3(d.as_secs_f64() / unit))
}

/// Three decimals are enough for anyone reading a benchmark.
pub fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The process's peak resident memory, in MiB (Linux; 0 elsewhere).
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| round3(kb / 1024.0))
}

/// `url` with its database replaced by `name` (benchmarks make scratch databases
/// beside the configured one).
pub(crate) fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let mut parsed = url::Url::parse(url)?;
    parsed.set_path(&format!("/{name}"));
    Ok(parsed.to_string())
}
