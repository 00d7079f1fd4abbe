//! EduScale's pages, shared by server-side rendering (`ssr`) and the browser (`hydrate`).
//!
//! [`shell`] is the HTML document the server sends; [`App`] is the router and
//! the app shell (header with navigation by role, main, footer). Who is signed
//! in is one blocking resource ([`session::Auth`]), resolved before the first
//! byte is sent, so the header never changes shape when the page hydrates.

// The hydrate build lays out the futures of deep view types (the path graph's
// SVG with its handlers), which needs more than the default 128 levels.
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
mod layout;
mod pages;
mod session;

use leptos::prelude::*;
use leptos_meta::{Link, Meta, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The whole HTML document, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The router and the app shell.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    session::provide_auth();
    view! {
        <Stylesheet id="leptos" href="/pkg/eduscale.css" />
        <Title formatter=|page: String| if page.is_empty() { "EduScale".to_owned() } else { format!("{page} · EduScale") } />
        <Meta name="description" content="EduScale: learn to program by doing, in real time." />
        <Meta name="color-scheme" content="light dark" />
        <Link rel="icon" href="data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%234f46e5'/%3E%3Cpath d='M9 10h14M9 16h10M9 22h14' stroke='white' stroke-width='3' stroke-linecap='round'/%3E%3C/svg%3E" />
        <Router>
            <layout::Header />
            <layout::PageViews />
            <main class="page">
                <layout::Boundary>
                    <Routes fallback=pages::not_found::NotFound>
                        <Route path=path!("") view=pages::home::Home />
                        <Route path=path!("signup") view=pages::signup::SignUpPage />
                        <Route path=path!("login") view=pages::login::LogInPage />
                        <Route path=path!("profile") view=pages::profile::Profile />
                        <Route path=path!("playground") view=pages::playground::Playground />
                        <Route path=path!("paths") view=pages::paths::PathsPage />
                        <Route path=path!("paths/:slug") view=pages::paths::PathPage />
                        <Route path=path!("paths/:slug/:node") view=pages::path_node::PathNodePage />
                        <Route path=path!("arena") view=pages::arena::ArenaPage />
                        <Route path=path!("arena/:id") view=pages::battle::BattlePage />
                        <Route path=path!("arena/:id/replay") view=pages::replay::ReplayPage />
                        <Route path=path!("leaderboard") view=pages::leaderboard::LeaderboardPage />
                        <Route path=path!("cohorts") view=pages::cohorts::Cohorts />
                        <Route path=path!("teach") view=pages::teach::Teach />
                        <Route path=path!("admin") view=pages::admin::Admin />
                        <Route path=path!("insights") view=pages::insights::home::InsightsPage />
                        <Route path=path!("insights/:scope") view=pages::insights::overview::OverviewPage />
                        <Route path=path!("insights/:scope/learners/:id") view=pages::insights::learner::LearnerPage />
                        <Route path=path!("insights/:scope/nodes/:id") view=pages::insights::node::NodePage />
                    </Routes>
                </layout::Boundary>
            </main>
            <layout::Footer />
        </Router>
    }
}
