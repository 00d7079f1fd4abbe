//! The runner's types to and from their protobuf messages (`proto/runner.proto`).
//!
//! Both directions live here so the mapping is read in one place. Decoding is
//! parsing: an id one side does not know (a language, a verdict) becomes a typed
//! error instead of a default, so a version mismatch is loud. Requests decode to
//! [`RunError::Invalid`] (the caller's fault); replies decode to
//! [`RunError::Host`] (the runner's).

use super::pb;
use crate::queue::Load;
use crate::{Backend, Language, LanguageStatus, Limits, Report, RunError, RunRequest, Verdict};
use std::time::Duration;

/// A request as sent to a runner on behalf of `user`.
pub fn run_request(user: &str, request: &RunRequest) -> pb::RunRequest {
    pb::RunRequest {
        user: user.to_owned(),
        language: request.language.id().to_owned(),
        source: request.source.clone(),
        stdin: request.stdin.clone(),
        limits: Some(limits(&request.limits)),
        seed: request.seed,
    }
}

/// A received request: the user key and the request, or why it is refused.
pub fn parse_run_request(request: pb::RunRequest) -> Result<(String, RunRequest), RunError> {
    if request.user.trim().is_empty() {
        return Err(RunError::Invalid("a run needs a user key".to_owned()));
    }
    let language = Language::from_id(&request.language).ok_or_else(|| {
        RunError::Invalid(format!(
            "unknown language {:?}",
            truncate(&request.language)
        ))
    })?;
    Ok((
        request.user,
        RunRequest {
            language,
            source: request.source,
            stdin: request.stdin,
            limits: request.limits.map_or_else(Limits::default, parse_limits),
            seed: request.seed,
        },
    ))
}

fn limits(limits: &Limits) -> pb::Limits {
    pb::Limits {
        wall_ms: u64::try_from(limits.wall.as_millis()).unwrap_or(u64::MAX),
        fuel: limits.fuel,
        memory_bytes: limits.memory_bytes,
        output_bytes: limits.output_bytes as u64,
    }
}

fn parse_limits(limits: pb::Limits) -> Limits {
    // Values past what this machine can hold saturate; the runner clamps them
    // to its maximum anyway.
    Limits {
        wall: Duration::from_millis(limits.wall_ms),
        fuel: limits.fuel,
        memory_bytes: limits.memory_bytes,
        output_bytes: usize::try_from(limits.output_bytes).unwrap_or(usize::MAX),
    }
}

/// The reply to a run: its outcome and the runner's load.
pub fn run_reply(outcome: Result<Report, RunError>, load: Option<Load>) -> pb::RunReply {
    pb::RunReply {
        outcome: Some(match outcome {
            Ok(report) => pb::run_reply::Outcome::Report(self::report(report)),
            Err(error) => pb::run_reply::Outcome::Error(self::error(error)),
        }),
        load: load.map(self::load),
    }
}

/// A received reply's outcome.
pub fn parse_run_reply(reply: pb::RunReply) -> Result<Report, RunError> {
    match reply.outcome {
        Some(pb::run_reply::Outcome::Report(report)) => parse_report(report),
        Some(pb::run_reply::Outcome::Error(error)) => Err(parse_error(error)),
        None => Err(RunError::Host(
            "the runner replied with no outcome".to_owned(),
        )),
    }
}

fn report(report: Report) -> pb::Report {
    pb::Report {
        language: report.language.id().to_owned(),
        verdict: report.verdict.id().to_owned(),
        exit_code: report.exit_code,
        detail: report.detail,
        stdout: report.stdout,
        stderr: report.stderr,
        wall_us: report.wall_us,
        fuel: report.fuel,
        peak_memory_bytes: report.peak_memory_bytes,
    }
}

fn parse_report(report: pb::Report) -> Result<Report, RunError> {
    Ok(Report {
        language: parse_language(&report.language)?,
        verdict: Verdict::from_id(&report.verdict).ok_or_else(|| {
            RunError::Host(format!(
                "the runner sent an unknown verdict {:?}",
                truncate(&report.verdict)
            ))
        })?,
        exit_code: report.exit_code,
        detail: report.detail,
        stdout: report.stdout,
        stderr: report.stderr,
        wall_us: report.wall_us,
        fuel: report.fuel,
        peak_memory_bytes: report.peak_memory_bytes,
    })
}

fn error(error: RunError) -> pb::RunError {
    use pb::run_error::Kind;
    let kind = match error {
        RunError::Unavailable { language, reason } => Kind::Unavailable(pb::Unavailable {
            language: language.id().to_owned(),
            reason,
        }),
        RunError::Busy { retry_after } => Kind::Busy(retry(retry_after)),
        RunError::RateLimited { retry_after } => Kind::RateLimited(retry(retry_after)),
        RunError::Invalid(why) => Kind::Invalid(why),
        RunError::Host(why) => Kind::Host(why),
    };
    pb::RunError { kind: Some(kind) }
}

fn parse_error(error: pb::RunError) -> RunError {
    use pb::run_error::Kind;
    match error.kind {
        Some(Kind::Unavailable(pb::Unavailable { language, reason })) => {
            match parse_language(&language) {
                Ok(language) => RunError::Unavailable { language, reason },
                Err(unknown) => unknown,
            }
        }
        Some(Kind::Busy(after)) => RunError::Busy {
            retry_after: Duration::from_millis(after.retry_after_ms),
        },
        Some(Kind::RateLimited(after)) => RunError::RateLimited {
            retry_after: Duration::from_millis(after.retry_after_ms),
        },
        Some(Kind::Invalid(why)) => RunError::Invalid(why),
        Some(Kind::Host(why)) => RunError::Host(format!("on the runner: {why}")),
        None => RunError::Host("the runner sent an error of an unknown kind".to_owned()),
    }
}

fn retry(after: Duration) -> pb::RetryAfter {
    pb::RetryAfter {
        retry_after_ms: u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
    }
}

/// A runner's load on the wire.
pub fn load(load: Load) -> pb::Load {
    let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    pb::Load {
        running: narrow(load.running),
        waiting: narrow(load.waiting),
        capacity: narrow(load.capacity),
    }
}

/// A received load.
pub fn parse_load(load: pb::Load) -> Load {
    Load {
        running: load.running as usize,
        waiting: load.waiting as usize,
        capacity: load.capacity as usize,
    }
}

/// The languages on the wire.
pub fn languages(statuses: Vec<LanguageStatus>) -> pb::LanguagesReply {
    pb::LanguagesReply {
        languages: statuses
            .into_iter()
            .map(|status| pb::LanguageStatus {
                language: status.language.id().to_owned(),
                backend: backend_id(status.backend).to_owned(),
                unavailable: status.unavailable,
            })
            .collect(),
    }
}

/// Received languages. Languages this build does not know are skipped: a newer
/// runner may offer more than this client can ask for.
pub fn parse_languages(reply: pb::LanguagesReply) -> Vec<LanguageStatus> {
    reply
        .languages
        .into_iter()
        .filter_map(|status| {
            let language = Language::from_id(&status.language)?;
            Some(LanguageStatus {
                language,
                backend: parse_backend(&status.backend).unwrap_or(language.backend()),
                unavailable: status.unavailable,
            })
        })
        .collect()
}

fn backend_id(backend: Backend) -> &'static str {
    match backend {
        Backend::Wasm => "wasm",
        Backend::Docker => "docker",
    }
}

fn parse_backend(id: &str) -> Option<Backend> {
    match id {
        "wasm" => Some(Backend::Wasm),
        "docker" => Some(Backend::Docker),
        _ => None,
    }
}

fn parse_language(id: &str) -> Result<Language, RunError> {
    Language::from_id(id).ok_or_else(|| {
        RunError::Host(format!(
            "the runner sent an unknown language {:?}",
            truncate(id)
        ))
    })
}

/// At most 40 characters of an id we could not parse, for a message.
fn truncate(id: &str) -> String {
    id.chars().take(40).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_report() -> Report {
        Report {
            language: Language::Python,
            verdict: Verdict::RuntimeError,
            exit_code: Some(1),
            detail: None,
            stdout: "out".into(),
            stderr: "Traceback".into(),
            wall_us: 1234,
            fuel: 99,
            peak_memory_bytes: 4096,
        }
    }

    #[test]
    fn a_request_survives_the_wire() {
        let mut request = RunRequest::new(Language::JavaScript, "print(1)", "in");
        request.seed = Some(7);
        request.limits.wall = Duration::from_millis(1500);
        let (user, back) = parse_run_request(run_request("ada", &request)).expect("valid");
        assert_eq!((user.as_str(), back), ("ada", request));
    }

    #[test]
    fn a_request_without_limits_gets_the_defaults() {
        let mut wire = run_request("ada", &RunRequest::new(Language::Python, "", ""));
        wire.limits = None;
        let (_, request) = parse_run_request(wire).expect("valid");
        assert_eq!(request.limits, Limits::default());
    }

    #[test]
    fn unknown_languages_and_missing_users_are_invalid() {
        let mut wire = run_request("ada", &RunRequest::new(Language::Python, "", ""));
        wire.language = "cobol".into();
        assert!(matches!(
            parse_run_request(wire.clone()),
            Err(RunError::Invalid(why)) if why.contains("cobol")
        ));
        wire.language = "python".into();
        wire.user = " ".into();
        assert!(matches!(parse_run_request(wire), Err(RunError::Invalid(_))));
    }

    #[test]
    fn every_outcome_survives_the_wire() {
        let outcomes = [
            Ok(sample_report()),
            Err(RunError::Unavailable {
                language: Language::Go,
                reason: "no Docker".into(),
            }),
            Err(RunError::Busy {
                retry_after: Duration::from_millis(2500),
            }),
            Err(RunError::RateLimited {
                retry_after: Duration::from_secs(3),
            }),
            Err(RunError::Invalid("too long".into())),
        ];
        for outcome in outcomes {
            let reply = run_reply(outcome.clone(), None);
            assert_eq!(parse_run_reply(reply), outcome);
        }
        let host = parse_run_reply(run_reply(Err(RunError::Host("disk".into())), None));
        assert_eq!(host, Err(RunError::Host("on the runner: disk".into())));
    }

    #[test]
    fn an_unknown_verdict_is_a_host_error() {
        let mut reply = run_reply(Ok(sample_report()), None);
        if let Some(pb::run_reply::Outcome::Report(report)) = &mut reply.outcome {
            report.verdict = "pending".into();
        }
        assert!(
            matches!(parse_run_reply(reply), Err(RunError::Host(why)) if why.contains("pending"))
        );
        let empty = pb::RunReply {
            outcome: None,
            load: None,
        };
        assert!(matches!(parse_run_reply(empty), Err(RunError::Host(_))));
    }

    #[test]
    fn languages_and_load_survive_the_wire() {
        let statuses = vec![
            LanguageStatus {
                language: Language::Python,
                backend: Backend::Wasm,
                unavailable: None,
            },
            LanguageStatus {
                language: Language::C,
                backend: Backend::Docker,
                unavailable: Some("no Docker".into()),
            },
        ];
        let mut reply = languages(statuses.clone());
        reply.languages.push(pb::LanguageStatus {
            language: "zig".into(),
            backend: "wasm".into(),
            unavailable: None,
        });
        assert_eq!(parse_languages(reply), statuses);
        let busy = Load {
            running: 8,
            waiting: 3,
            capacity: 8,
        };
        assert_eq!(parse_load(load(busy)), busy);
    }
}
