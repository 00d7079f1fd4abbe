//! Where learners meet the code runner: which languages run here, running a
//! program on typed input, and submitting one to a challenge.
//!
//! Every run is for a signed-in person and counts against their per-minute
//! limit (a submission counts once, however many test cases it has). A program
//! that fails is an answer (a [`Report`] or [`Judgement`] with a verdict), not an
//! error; errors are for runs that did not happen: too large, too many, runner
//! busy, language unavailable. A submission is stored before its judgement is
//! sent, and the judgement carries nothing of the hidden test cases but how each
//! went.

use crate::error::AppError;
use eduscale_core::code::{Judgement, LanguageStatus, Report};
use leptos::prelude::*;

/// The largest request body the run endpoints accept: a program and an input at
/// their limits, form-encoded (up to three bytes per byte), and the other fields.
pub const MAX_BODY_BYTES: usize =
    3 * (eduscale_core::code::MAX_SOURCE_BYTES + eduscale_core::code::MAX_INPUT_BYTES) + 4096;

/// Whether `path` is a run endpoint, whose body holds a program and its input
/// (the web layer gives those up to [`MAX_BODY_BYTES`]).
#[cfg(feature = "ssr")]
pub fn takes_a_program(path: &str) -> bool {
    use server_fn::ServerFn;
    path == RunCode::PATH || path == Submit::PATH
}

/// Every language, and whether (and why not) it runs here. Public: it is what
/// the product offers, nothing about anyone.
#[server(endpoint = "languages")]
pub async fn languages() -> Result<Vec<LanguageStatus>, AppError> {
    use super::context;
    crate::error::respond(async move { Ok(context::state()?.runner.languages()) }.await)
}

/// Runs `source` once on `stdin` with the default limits. Signed-in only.
#[server(endpoint = "run_code")]
pub async fn run_code(language: String, source: String, stdin: String) -> Result<Report, AppError> {
    use super::context;
    use eduscale_core::code::ProgramInput;
    use eduscale_runner::RunRequest;
    crate::error::respond(
        async move {
            let (state, user) = context::who().await?;
            let (language, source) = ssr::program(&language, source)?;
            let stdin = ProgramInput::parse(stdin).map_err(|e| AppError::BadRequest(e.message))?;
            let who = user.id.to_string();
            state.run_limit.check(&who)?;
            let request = RunRequest::new(language, source.into_string(), stdin.into_string());
            let report = state.runner.execute(&who, request).await?;
            use eduscale_server::insights::event::{Event, Kind};
            state.insights.note(Event::new(user.id, Kind::Run)).await;
            Ok(report)
        }
        .await,
    )
}

/// Judges `source` against the challenge with this slug or id, and records the
/// submission. Signed-in only.
#[server(endpoint = "submit")]
pub async fn submit(
    challenge: String,
    language: String,
    source: String,
) -> Result<Judgement, AppError> {
    use super::context;
    use eduscale_server::challenges;
    crate::error::respond(
        async move {
            let (state, user) = context::who().await?;
            let (language, source) = ssr::program(&language, source)?;
            let challenge = challenges::find(&state.db, &challenge)
                .await
                .map_err(ssr::internal)?
                .ok_or_else(|| AppError::NotFound("No such challenge.".into()))?;
            let judgement =
                ssr::judge_and_record(&state, &user, &challenge, language, &source).await?;
            use eduscale_server::insights::event::{Event, Kind};
            state
                .insights
                .note(Event::new(user.id, Kind::Submitted))
                .await;
            Ok(judgement)
        }
        .await,
    )
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::error::AppError;
    use eduscale_core::code::{Judgement, Language, SourceCode};
    use eduscale_server::auth::User;
    use eduscale_server::challenges::Challenge;
    use eduscale_server::{AppState, challenges, submissions};

    /// Judges `source` against `challenge` for `user` (one run against their
    /// per-minute limit, however many cases) and stores the submission before
    /// the judgement is returned.
    pub async fn judge_and_record(
        state: &AppState,
        user: &User,
        challenge: &Challenge,
        language: Language,
        source: &SourceCode,
    ) -> Result<Judgement, AppError> {
        let who = user.id.to_string();
        state.run_limit.check(&who)?;
        let tests = challenges::tests(&state.db, challenge.id)
            .await
            .map_err(internal)?;
        let judgement = eduscale_runner::judge::judge(
            &*state.runner,
            &who,
            language,
            source.as_str(),
            &tests,
            &challenge.checker,
            challenge.limits,
        )
        .await?;
        submissions::record(
            &state.db,
            user.id,
            challenge.id,
            language,
            source.as_str(),
            &judgement,
        )
        .await
        .map_err(internal)?;
        Ok(judgement)
    }

    /// The language and the program, parsed; 400 with the reason otherwise.
    pub fn program(language: &str, source: String) -> Result<(Language, SourceCode), AppError> {
        let language = Language::from_id(language).ok_or_else(|| {
            let known: Vec<&str> = Language::ALL.iter().map(|l| l.id()).collect();
            AppError::BadRequest(format!(
                "Unknown language \"{}\"; choose one of {}.",
                language.trim(),
                known.join(", ")
            ))
        })?;
        let source = SourceCode::parse(source).map_err(|e| AppError::BadRequest(e.message))?;
        Ok((language, source))
    }

    /// A database failure: logged here, a plain 500 for the caller.
    pub fn internal(e: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %e, "database error in a run server function");
        AppError::Internal
    }
}
