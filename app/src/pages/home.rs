//! The home page: what EduScale is, and where to start.

use crate::session::use_auth;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// `/`
#[component]
pub fn Home() -> impl IntoView {
    let auth = use_auth();
    view! {
        <Title text="" />
        <section class="hero">
            <p class="eyebrow">"Learn to program by doing"</p>
            <h1>"Write real code. Get instant feedback. Learn together."</h1>
            <p class="lead">
                "EduScale guides you through paths of lessons and challenges that open as you master them, "
                "lets you battle other learners live, and runs your code safely right from the browser."
            </p>
            <Transition fallback=|| view! { <p class="actions placeholder"></p> }>
                {move || Suspend::new(async move {
                    match auth.me.await.ok().flatten() {
                        Some(me) => {
                            view! {
                                <p class="actions">
                                    <span class="welcome">"Welcome back, " {me.display_name} "."</span>
                                    <A href="/profile" attr:class="button">"Your profile"</A>
                                </p>
                            }
                                .into_any()
                        }
                        None => {
                            view! {
                                <p class="actions">
                                    <A href="/signup" attr:class="button">"Start learning — it's free"</A>
                                    <A href="/login" attr:class="button ghost">"Log in"</A>
                                </p>
                            }
                                .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
        <section class="features">
            <Feature title="Learning paths" icon="◆">
                "Lessons and challenges drawn as a graph. A node opens when you have passed what it needs; "
                "if you struggle, a remedial branch opens to help."
            </Feature>
            <Feature title="Arena" icon="⚔">
                "1v1 and group coding battles, scored by the server, live for players and spectators."
            </Feature>
            <Feature title="Runner" icon="▶">
                "Python, JavaScript and more run in a sandbox that starts in microseconds."
            </Feature>
            <Feature title="Insights" icon="◔">
                "Instructors see velocity, engagement and who is about to get stuck, as it happens."
            </Feature>
        </section>
        <section class="card code-sample" aria-label="A first challenge">
            <p class="eyebrow">"A first challenge"</p>
            <pre><code>{"def greet(name: str) -> str:\n    return f\"Hello, {name}!\"\n\nprint(greet(input()))"}</code></pre>
        </section>
    }
}

#[component]
fn Feature(title: &'static str, icon: &'static str, children: Children) -> impl IntoView {
    view! {
        <article class="feature card">
            <span class="feature-icon" aria-hidden="true">{icon}</span>
            <h2>{title}</h2>
            <p>{children()}</p>
        </article>
    }
}
