//! A path drawn as an SVG graph: nodes coloured by the learner's status,
//! prerequisites as arrows, remedial nodes linked by a dashed line.
//!
//! The layout is core's (`eduscale_core::paths::layout`), computed where the
//! component renders: on the server for the first paint, in the browser's WASM
//! after that, the same numbers on both sides. Statuses are a signal, so a push
//! over the WebSocket recolours nodes in place (just-unlocked ones pulse). Drag
//! to pan, wheel or the buttons to zoom; hovering (or focusing) a node shows
//! what it needs; a click or Enter opens it.

use eduscale_core::paths::{NODE_HEIGHT, NODE_WIDTH, NodeKind, NodeStatus, PathGraph, layout};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// The view box: top-left corner and width; the height follows the aspect ratio.
#[derive(Clone, Copy, Debug, PartialEq)]
struct View {
    x: f32,
    y: f32,
    w: f32,
    h: f32,
}

impl View {
    fn zoom(self, factor: f32, cx: f32, cy: f32) -> View {
        let w = (self.w * factor).clamp(200.0, 20_000.0);
        let h = self.h * w / self.w;
        View {
            x: cx - (cx - self.x) * w / self.w,
            y: cy - (cy - self.y) * h / self.h,
            w,
            h,
        }
    }
}

/// The graph of `graph` with `statuses`; nodes link to `{base}/{key}`.
#[component]
pub fn PathGraphView(
    /// The path.
    graph: PathGraph,
    /// The learner's status on each node, by position.
    #[prop(into)]
    statuses: Signal<Vec<NodeStatus>>,
    /// Positions that just unlocked (they pulse).
    #[prop(into)]
    unlocked: Signal<Vec<usize>>,
    /// The recommended node, highlighted.
    #[prop(into)]
    recommended: Signal<Option<usize>>,
    /// Where node pages live (`/paths/python-foundations`).
    base: String,
) -> impl IntoView {
    let laid = layout(&graph);
    let full = View {
        x: 0.0,
        y: 0.0,
        w: laid.width.max(NODE_WIDTH * 4.0),
        h: laid.height.max(NODE_HEIGHT * 4.0),
    };
    let view_box = RwSignal::new(full);
    let drag = StoredValue::new(None::<(f64, f64, View, bool)>);
    let hovered = RwSignal::new(None::<usize>);
    let navigate = use_navigate();
    let graph = StoredValue::new(graph);
    let status_of =
        move |i: usize| statuses.with(|s| s.get(i).copied().unwrap_or(NodeStatus::Locked));

    let edges = laid
        .edges
        .iter()
        .enumerate()
        .map(|(e, points)| {
            let from = graph.with_value(|g| g.edges[e].from);
            let d = points
                .iter()
                .enumerate()
                .map(|(k, p)| format!("{}{:.1} {:.1}", if k == 0 { "M" } else { "L" }, p.x, p.y))
                .collect::<Vec<_>>()
                .join(" ");
            view! {
                <path
                    d=d
                    class="edge"
                    class:met=move || matches!(status_of(from), NodeStatus::Passed | NodeStatus::Skipped)
                    marker-end="url(#arrow)"
                />
            }
        })
        .collect_view();
    let remedial = laid
        .remedial_links
        .iter()
        .map(|&(target, help)| {
            let (a, b) = (laid.nodes[target], laid.nodes[help]);
            view! { <line x1=a.x y1=a.y x2=b.x y2=b.y class="remedial-link" /> }
        })
        .collect_view();
    let nodes = laid
        .nodes
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (key, title, kind, remedial) = graph.with_value(|g| {
                let n = &g.nodes[i];
                (n.key.clone(), n.title.clone(), n.kind, n.remedial_for.is_some())
            });
            let href = format!("{base}/{key}");
            let open = {
                let navigate = navigate.clone();
                let href = href.clone();
                move || {
                    if status_of(i) != NodeStatus::Locked {
                        navigate(&href, Default::default());
                    }
                }
            };
            let open_on_key = open.clone();
            let label = short(&title, 20);
            let kind_class = match kind {
                NodeKind::Lesson => "kind-lesson",
                NodeKind::Challenge => "kind-challenge",
                NodeKind::Checkpoint => "kind-checkpoint",
            };
            view! {
                <g
                    class=move || format!("node {kind_class} status-{}", status_of(i).as_str())
                    class:remedial=remedial
                    class:just-unlocked=move || unlocked.with(|u| u.contains(&i))
                    class:recommended=move || recommended.get() == Some(i)
                    transform=format!("translate({:.1} {:.1})", p.x - NODE_WIDTH / 2.0, p.y - NODE_HEIGHT / 2.0)
                    data-key=key.clone()
                    data-status=move || status_of(i).as_str()
                    tabindex="0"
                    role="link"
                    aria-label=move || format!("{title} ({})", status_label(status_of(i)))
                    on:click=move |_| {
                        if !drag.with_value(|d| d.is_some_and(|(_, _, _, moved)| moved)) {
                            open()
                        }
                    }
                    on:keydown=move |ev| {
                        if ev.key() == "Enter" {
                            open_on_key()
                        }
                    }
                    on:pointerenter=move |_| hovered.set(Some(i))
                    on:pointerleave=move |_| hovered.set(None)
                    on:focus=move |_| hovered.set(Some(i))
                    on:blur=move |_| hovered.set(None)
                >
                    <rect width=NODE_WIDTH height=NODE_HEIGHT rx="10" />
                    <text x=NODE_WIDTH / 2.0 y=NODE_HEIGHT / 2.0 - 4.0 class="node-title">{label}</text>
                    <text x=NODE_WIDTH / 2.0 y=NODE_HEIGHT / 2.0 + 13.0 class="node-status">
                        {move || status_label(status_of(i))}
                    </text>
                </g>
            }
        })
        .collect_view();

    let on_wheel = move |ev: leptos::ev::WheelEvent| {
        ev.prevent_default();
        let factor = if ev.delta_y() > 0.0 { 1.15 } else { 1.0 / 1.15 };
        let (fx, fy) = pointer_fraction(&ev);
        view_box.update(|v| {
            let (cx, cy) = (v.x + fx * v.w, v.y + fy * v.h);
            *v = v.zoom(factor, cx, cy);
        });
    };
    let on_down = move |ev: leptos::ev::PointerEvent| {
        capture(&ev);
        drag.set_value(Some((
            f64::from(ev.client_x()),
            f64::from(ev.client_y()),
            view_box.get_untracked(),
            false,
        )));
    };
    let on_move = move |ev: leptos::ev::PointerEvent| {
        let Some((x0, y0, start, _)) = drag.get_value() else {
            return;
        };
        let (dx, dy) = (f64::from(ev.client_x()) - x0, f64::from(ev.client_y()) - y0);
        if dx.abs() + dy.abs() < 4.0 {
            return;
        }
        let scale = start.w / element_width(&ev).max(1.0);
        drag.set_value(Some((x0, y0, start, true)));
        view_box.set(View {
            x: start.x - dx as f32 * scale,
            y: start.y - dy as f32 * scale,
            ..start
        });
    };
    let on_up = move |_| {
        // Cleared after the click that follows pointerup has seen whether this was a drag.
        set_timeout(
            move || drag.set_value(None),
            std::time::Duration::from_millis(0),
        );
    };
    let zoom_by = move |factor: f32| {
        view_box.update(|v| {
            let (cx, cy) = (v.x + v.w / 2.0, v.y + v.h / 2.0);
            *v = v.zoom(factor, cx, cy);
        })
    };

    view! {
        <div class="path-graph" data-testid="path-graph">
            <div class="graph-controls">
                <button class="button ghost small" on:click=move |_| zoom_by(1.0 / 1.25) aria-label="Zoom in">"+"</button>
                <button class="button ghost small" on:click=move |_| zoom_by(1.25) aria-label="Zoom out">"−"</button>
                <button class="button ghost small" on:click=move |_| view_box.set(full)>"Fit"</button>
            </div>
            <svg
                class="graph-canvas"
                role="group"
                aria-label="The path as a graph of nodes"
                viewBox=move || {
                    let v = view_box.get();
                    format!("{:.1} {:.1} {:.1} {:.1}", v.x, v.y, v.w, v.h)
                }
                preserveAspectRatio="xMidYMin meet"
                on:wheel=on_wheel
                on:pointerdown=on_down
                on:pointermove=on_move
                on:pointerup=on_up
                on:pointercancel=move |_| drag.set_value(None)
            >
                <defs>
                    <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                        <path d="M 0 0 L 10 5 L 0 10 z" class="arrow-head" />
                    </marker>
                </defs>
                <g class="edges">{edges.into_any()}</g>
                <g class="remedial-links">{remedial}</g>
                <g class="nodes">{nodes.into_any()}</g>
            </svg>
            <NodeTip graph statuses hovered />
            <Legend />
        </div>
    }
    // Erased: the graph's view type is deep enough to overflow the compiler's
    // query depth when the hydrate build lays out the pages that hold it.
    .into_any()
}

/// What the hovered node needs, with the learner's status on each.
#[component]
fn NodeTip(
    graph: StoredValue<PathGraph>,
    statuses: Signal<Vec<NodeStatus>>,
    hovered: RwSignal<Option<usize>>,
) -> impl IntoView {
    move || {
        hovered.get().map(|i| {
            let (title, kind, needs, remedial_for) = graph.with_value(|g| {
                let n = &g.nodes[i];
                let needs: Vec<(String, u8, usize, u32)> = g
                    .edges
                    .iter()
                    .filter(|e| e.to == i)
                    .map(|e| (g.nodes[e.from].title.clone(), e.min_score, e.from, e.group))
                    .collect();
                (n.title.clone(), n.kind, needs, n.remedial_for.map(|t| g.nodes[t].title.clone()))
            });
            let status = statuses.with(|s| s.get(i).copied().unwrap_or(NodeStatus::Locked));
            let groups = needs.iter().map(|n| n.3).collect::<std::collections::BTreeSet<_>>();
            view! {
                <aside class="node-tip" role="status" data-testid="node-tip">
                    <p class="tip-title">{title}</p>
                    <p class="muted small">{format!("{} · {}", kind.as_str(), status_label(status))}</p>
                    {remedial_for.map(|t| view! { <p class="small">{format!("Extra practice for “{t}”: opens when you are stuck there.")}</p> })}
                    {(!needs.is_empty()).then(|| view! {
                        <p class="small">"Needs:"</p>
                        <ul class="tip-needs">
                            {groups.into_iter().map(|g| {
                                let alternatives: Vec<_> = needs.iter().filter(|n| n.3 == g).cloned().collect();
                                let one_of = alternatives.len() > 1;
                                view! {
                                    <li>
                                        {one_of.then_some("one of: ")}
                                        {alternatives.into_iter().map(|(title, min, from, _)| {
                                            let s = statuses.with(|s| s.get(from).copied().unwrap_or(NodeStatus::Locked));
                                            let score = if min < 100 { format!(" (≥ {min}%)") } else { String::new() };
                                            view! { <span class=format!("need status-{}", s.as_str())>{format!("{title}{score}")}</span>" " }
                                        }).collect_view()}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    })}
                </aside>
            }
        })
    }
}

#[component]
fn Legend() -> impl IntoView {
    let items = [
        (NodeStatus::Passed, "passed"),
        (NodeStatus::Skipped, "tested out"),
        (NodeStatus::InProgress, "in progress"),
        (NodeStatus::Open, "open"),
        (NodeStatus::Locked, "locked"),
    ];
    view! {
        <ul class="graph-legend" aria-label="Legend">
            {items.into_iter().map(|(s, label)| view! {
                <li><span class=format!("swatch status-{}", s.as_str())></span>{label}</li>
            }).collect_view()}
        </ul>
    }
}

/// How a status reads on the page.
pub fn status_label(status: NodeStatus) -> &'static str {
    match status {
        NodeStatus::Locked => "locked",
        NodeStatus::Open => "open",
        NodeStatus::InProgress => "in progress",
        NodeStatus::Passed => "passed",
        NodeStatus::Skipped => "tested out",
    }
}

/// `s` cut to `max` characters with an ellipsis.
fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(max - 1).collect::<String>())
    }
}

#[cfg(feature = "hydrate")]
fn element_width(ev: &leptos::ev::PointerEvent) -> f32 {
    use leptos::wasm_bindgen::JsCast;
    ev.current_target()
        .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
        .map_or(1.0, |e| e.client_width() as f32)
}

#[cfg(not(feature = "hydrate"))]
fn element_width(_: &leptos::ev::PointerEvent) -> f32 {
    1.0
}

#[cfg(feature = "hydrate")]
fn capture(ev: &leptos::ev::PointerEvent) {
    use leptos::wasm_bindgen::JsCast;
    if let Some(e) = ev
        .current_target()
        .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
    {
        let _ = e.set_pointer_capture(ev.pointer_id());
    }
}

#[cfg(not(feature = "hydrate"))]
fn capture(_: &leptos::ev::PointerEvent) {}

/// Where the pointer is across the element, 0..1 each way.
#[cfg(feature = "hydrate")]
fn pointer_fraction(ev: &leptos::ev::WheelEvent) -> (f32, f32) {
    use leptos::wasm_bindgen::JsCast;
    let Some(e) = ev
        .current_target()
        .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
    else {
        return (0.5, 0.5);
    };
    let (w, h) = (
        e.client_width().max(1) as f32,
        e.client_height().max(1) as f32,
    );
    (
        (ev.offset_x() as f32 / w).clamp(0.0, 1.0),
        (ev.offset_y() as f32 / h).clamp(0.0, 1.0),
    )
}

#[cfg(not(feature = "hydrate"))]
fn pointer_fraction(_: &leptos::ev::WheelEvent) -> (f32, f32) {
    (0.5, 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zooming_keeps_the_point_under_the_pointer_still() {
        let v = View {
            x: 0.0,
            y: 0.0,
            w: 1000.0,
            h: 500.0,
        };
        let z = v.zoom(0.5, 250.0, 100.0);
        assert_eq!(z.w, 500.0);
        // The point (250, 100) is at the same fraction of the view before and after.
        assert!(((250.0 - z.x) / z.w - 0.25).abs() < 1e-6);
        assert!(((100.0 - z.y) / z.h - 0.2).abs() < 1e-6);
    }

    #[test]
    fn long_titles_are_cut_with_an_ellipsis() {
        assert_eq!(short("Binary search on answers", 10), "Binary se…");
        assert_eq!(short("Loops", 10), "Loops");
    }
}
