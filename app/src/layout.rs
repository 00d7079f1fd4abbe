//! The app shell: header with navigation by role, footer, the error boundary
//! every page renders inside, and the page-view beacon.

use crate::api::Me;
use crate::api::insights::page_view;
use crate::error::AppError;
use crate::session::use_auth;
use eduscale_core::account::Role;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;

/// Brand, navigation for the signed-in role, and the account menu.
#[component]
pub fn Header() -> impl IntoView {
    let auth = use_auth();
    let (open, set_open) = signal(false);
    view! {
        <header class="site-header">
            <div class="bar">
                <A href="/" attr:class="brand">
                    <span class="brand-mark" aria-hidden="true">"{ }"</span>
                    "EduScale"
                </A>
                <button
                    class="menu-toggle"
                    aria-label="Menu"
                    aria-expanded=move || open.get().to_string()
                    on:click=move |_| set_open.update(|o| *o = !*o)
                >
                    <span></span>
                    <span></span>
                    <span></span>
                </button>
                <Transition fallback=|| view! { <nav class="nav" data-role="loading"></nav> }>
                    {move || Suspend::new(async move {
                        let me = auth.me.await.ok().flatten();
                        view! { <Nav me open on_pick=move || set_open.set(false) /> }
                    })}
                </Transition>
            </div>
        </header>
    }
}

#[component]
fn Nav(
    me: Option<Me>,
    open: ReadSignal<bool>,
    on_pick: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let auth = use_auth();
    let role = me.as_ref().map_or("visitor", |m| m.role.as_str());
    let links: Vec<(&'static str, &'static str)> = match me.as_ref().map(|m| m.role) {
        None => vec![("/", "Home")],
        Some(Role::Learner) => vec![
            ("/", "Home"),
            ("/paths", "Paths"),
            ("/playground", "Playground"),
            ("/arena", "Arena"),
            ("/leaderboard", "Leaderboard"),
            ("/cohorts", "My cohorts"),
        ],
        Some(Role::Instructor) => vec![
            ("/", "Home"),
            ("/paths", "Paths"),
            ("/playground", "Playground"),
            ("/arena", "Arena"),
            ("/leaderboard", "Leaderboard"),
            ("/teach", "Teaching"),
            ("/insights", "Insights"),
        ],
        Some(Role::Admin) => vec![
            ("/", "Home"),
            ("/paths", "Paths"),
            ("/playground", "Playground"),
            ("/arena", "Arena"),
            ("/leaderboard", "Leaderboard"),
            ("/teach", "Teaching"),
            ("/insights", "Insights"),
            ("/admin", "Admin"),
        ],
    };
    view! {
        <nav class="nav" class:open=move || open.get() data-role=role aria-label="Main">
            <ul class="links">
                {links
                    .into_iter()
                    .map(|(href, label)| {
                        view! {
                            <li>
                                <A href=href on:click=move |_| on_pick()>{label}</A>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            <div class="account">
                {match me {
                    None => {
                        view! {
                            <A href="/login" attr:class="button ghost" on:click=move |_| on_pick()>"Log in"</A>
                            <A href="/signup" attr:class="button" on:click=move |_| on_pick()>"Sign up"</A>
                        }
                            .into_any()
                    }
                    Some(me) => {
                        view! {
                            <A href="/profile" attr:class="who" on:click=move |_| on_pick()>
                                <span class="avatar" aria-hidden="true">{initial(&me.display_name)}</span>
                                <span class="who-name">{me.display_name.clone()}</span>
                                <span class="role-badge">{me.role.as_str()}</span>
                            </A>
                            <ActionForm action=auth.log_out attr:class="inline">
                                <button type="submit" class="button ghost">"Log out"</button>
                            </ActionForm>
                        }
                            .into_any()
                    }
                }}
            </div>
        </nav>
    }
}

fn initial(name: &str) -> String {
    name.chars()
        .next()
        .map(|c| c.to_uppercase().to_string())
        .unwrap_or_default()
}

/// Tells the server which page a signed-in person is on, each time the route
/// changes in the browser (and once after hydration for the first page):
/// client-side navigation never reaches the server otherwise. Fire and forget:
/// a lost page view is not worth a word to the person reading.
#[component]
pub fn PageViews() -> impl IntoView {
    let auth = use_auth();
    let location = use_location();
    // The path last reported: a refetch of who is signed in is not a new view.
    let sent = StoredValue::new(None::<String>);
    // Effects run only in the browser, after hydration.
    Effect::new(move |_| {
        let path = location.pathname.get();
        if !matches!(auth.me.get(), Some(Ok(Some(_)))) {
            // Signed out: the next sign-in's first page counts again.
            sent.set_value(None);
            return;
        }
        if sent.with_value(|s| s.as_deref() == Some(path.as_str())) {
            return;
        }
        sent.set_value(Some(path.clone()));
        leptos::task::spawn_local(async move {
            let _ = page_view(path).await;
        });
    });
}

/// The footer.
#[component]
pub fn Footer() -> impl IntoView {
    view! {
        <footer class="site-footer">
            <p>"EduScale — learn to program by doing, together, in real time."</p>
            <p class="muted">"Paths · Arena · Runner · Insights"</p>
        </footer>
    }
}

/// Renders its children, or a friendly page when they fail.
#[component]
pub fn Boundary(children: Children) -> impl IntoView {
    view! {
        <ErrorBoundary fallback=|errors| {
            view! {
                <section class="card narrow error-page" role="alert">
                    <h1>"That did not work"</h1>
                    <ul>
                        {move || {
                            errors
                                .get()
                                .into_iter()
                                .map(|(_, e)| view! { <li>{e.to_string()}</li> })
                                .collect_view()
                        }}
                    </ul>
                    <p class="actions">
                        <a class="button" href="/">"Go home"</a>
                        <a class="button ghost" href="/login">"Log in"</a>
                    </p>
                </section>
            }
        }>{children()}</ErrorBoundary>
    }
}

/// The message to show for a failed load, with a log-in link when that is the fix.
#[component]
pub fn Problem(error: AppError) -> impl IntoView {
    let needs_login = matches!(error, AppError::Unauthorized(_));
    view! {
        <section class="card narrow error-page" role="alert">
            <h1>{if needs_login { "Please log in" } else { "That did not work" }}</h1>
            <p>{error.to_string()}</p>
            <p class="actions">
                {needs_login.then(|| view! { <a class="button" href="/login">"Log in"</a> })}
                <a class="button ghost" href="/">"Go home"</a>
            </p>
        </section>
    }
}
