//! Pieces every Insights page uses: who may look, the route's ids, a flag's
//! light and reasons, CSV links, headline numbers, and number formats.

use crate::error::AppError;
use crate::layout::Problem;
use crate::session::Auth;
use eduscale_core::account::Role;
use eduscale_core::insights::flags::{Factor, Light};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// Instructors and admins may read insights: their role; a visitor or a
/// learner gets the error the server would give, without asking it.
pub async fn may_read(auth: Auth) -> Result<Role, AppError> {
    match auth.me.await? {
        None => Err(AppError::Unauthorized(
            "Please log in to see your cohorts' insights.".into(),
        )),
        Some(me) if me.role.teaches() => Ok(me.role),
        Some(_) => Err(AppError::Forbidden),
    }
}

/// A route parameter (empty when missing: the server answers "not found").
pub fn param(name: &'static str) -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.with(|p| p.get(name)).unwrap_or_default())
}

/// A failed load: "for instructors" for a refusal, the usual message otherwise.
#[component]
pub fn Failed(error: AppError) -> impl IntoView {
    if error == AppError::Forbidden {
        view! {
            <section class="card narrow error-page" role="alert" data-testid="instructors-only">
                <h1>"For instructors only"</h1>
                <p>"Insights show instructors how the learners of their cohorts are doing. Your account is not an instructor's."</p>
                <p class="actions">
                    <a class="button" href="/paths">"Back to learning"</a>
                </p>
            </section>
        }
        .into_any()
    } else {
        view! { <Problem error /> }.into_any()
    }
}

fn light_name(light: Light) -> &'static str {
    match light {
        Light::Green => "green",
        Light::Amber => "amber",
        Light::Red => "red",
    }
}

/// A traffic light: a shape and its name as well as a colour.
#[component]
pub fn LightBadge(light: Light) -> impl IntoView {
    let (mark, word) = match light {
        Light::Green => ("●", "Green"),
        Light::Amber => ("▲", "Amber"),
        Light::Red => ("■", "Red"),
    };
    let name = light_name(light);
    view! {
        <span class=format!("light light-{name}") data-light=name>
            <span aria-hidden="true">{mark}</span>
            " "
            {word}
        </span>
    }
}

/// The reasons behind a flag, each with the light it alone calls for.
#[component]
pub fn Reasons(factors: Vec<Factor>) -> impl IntoView {
    view! {
        <ul class="reasons">
            {factors
                .into_iter()
                .map(|f| {
                    let name = light_name(f.light);
                    view! {
                        <li class=format!("reason light-{name}") data-light=name>
                            <span class="reason-name">{f.name}</span>": "
                            <strong>{f.value}</strong>
                            <span class="muted">" (" {f.note} ")"</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// "Download CSV" for one of a scope's tables. Not a router link: the browser
/// fetches the file itself (`download`).
#[component]
pub fn CsvLink(scope: String, table: &'static str) -> impl IntoView {
    view! {
        <a
            class="button ghost small csv-link"
            href=format!("/insights/{scope}/export/{table}.csv")
            download=format!("{table}.csv")
            rel="external"
            data-testid=format!("csv-{table}")
        >
            "Download CSV"
        </a>
    }
}

/// One headline number.
#[component]
pub fn Stat(
    label: &'static str,
    value: String,
    #[prop(optional)] test_id: &'static str,
) -> impl IntoView {
    view! {
        <div class="stat">
            <dt>{label}</dt>
            <dd data-testid=(!test_id.is_empty()).then_some(test_id)>{value}</dd>
        </div>
    }
}

/// A rate in 0..=1 as a whole percentage.
pub fn percent(rate: f64) -> String {
    format!("{:.0}%", rate * 100.0)
}

/// An optional rate, with a dash when there is none.
pub fn maybe_percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "—".to_owned(), percent)
}

/// A duration in seconds in the largest unit that keeps it readable.
pub fn duration(seconds: Option<f64>) -> String {
    match seconds {
        None => "—".to_owned(),
        Some(s) if s < 90.0 => format!("{s:.0} s"),
        Some(s) if s < 90.0 * 60.0 => format!("{:.0} min", s / 60.0),
        Some(s) if s < 36.0 * 3600.0 => format!("{:.1} h", s / 3600.0),
        Some(s) => format!("{:.1} days", s / 86_400.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_the_largest_sensible_unit() {
        assert_eq!(duration(None), "—");
        assert_eq!(duration(Some(42.4)), "42 s");
        assert_eq!(duration(Some(600.0)), "10 min");
        assert_eq!(duration(Some(2.0 * 3600.0)), "2.0 h");
        assert_eq!(duration(Some(3.0 * 86_400.0)), "3.0 days");
    }

    #[test]
    fn rates_are_whole_percentages() {
        assert_eq!(percent(0.384), "38%");
        assert_eq!(maybe_percent(None), "—");
        assert_eq!(maybe_percent(Some(1.0)), "100%");
    }
}
