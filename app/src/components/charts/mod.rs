//! SVG charts for the dashboards: a bar chart and a line chart, each with axes,
//! tick labels, axis titles, a visible caption and an accessible
//! `<title>`/`<desc>`, and the same numbers as a table under a disclosure for
//! anyone who cannot read the picture.
//!
//! In: labels and counts. Out: markup whose geometry is computed here in plain
//! Rust from the points (no JavaScript), the same on the server and in the
//! browser, so a chart is in the first paint and hydrates without a mismatch.
//! The scale maths (nice ticks, value to pixel, which labels fit) is the pure
//! functions below, unit-tested; the components only lay out what they return.

mod bar;
mod line;

pub use bar::BarChart;
pub use line::{LineChart, Series};

use leptos::prelude::*;

/// The view box's size; CSS scales the whole chart to its card's width.
const WIDTH: f64 = 640.0;
/// See [`WIDTH`].
const HEIGHT: f64 = 260.0;

/// The plotting area inside the axes, in view-box units.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Plot {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

/// Room on the left for tick labels and the axis title, below for the x labels.
const PLOT: Plot = Plot {
    left: 56.0,
    top: 16.0,
    right: WIDTH - 16.0,
    bottom: HEIGHT - 52.0,
};

/// About this many ticks on a value axis.
const TICKS: usize = 5;

/// Ticks for a count axis from 0 up to at least `max`: evenly spaced at a
/// "nice" step (1, 2 or 5 times a power of ten, never below 1 since counts are
/// whole), about `target` of them. An empty or all-zero series still gets the
/// axis 0..1, so the chart keeps its shape.
pub fn ticks(max: f64, target: usize) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / target.max(1) as f64;
    // Plain multiplication, not `log10`/`powf`: the server and the browser
    // must draw the very same numbers, and libm's last bits may differ.
    let mut magnitude = 1.0;
    while magnitude * 10.0 <= raw {
        magnitude *= 10.0;
    }
    let step = match raw / magnitude {
        n if n <= 1.0 => 1.0,
        n if n <= 2.0 => 2.0,
        n if n <= 5.0 => 5.0,
        _ => 10.0,
    } * magnitude;
    let steps = (max / step).ceil() as usize;
    (0..=steps).map(|i| i as f64 * step).collect()
}

/// The height in the view box of `value` on an axis topped by `top_tick`.
fn y_at(value: f64, top_tick: f64, plot: Plot) -> f64 {
    let share = if top_tick > 0.0 {
        (value / top_tick).clamp(0.0, 1.0)
    } else {
        0.0
    };
    plot.bottom - share * (plot.bottom - plot.top)
}

/// Show every `n`th of `count` x labels so that at most `room` are drawn.
pub fn label_every(count: usize, room: usize) -> usize {
    count.div_ceil(room.max(1)).max(1)
}

/// A whole count as a tick label ("1200", not "1200.0").
fn count_label(v: f64) -> String {
    format!("{v:.0}")
}

/// `2026-03-02` as "Mar 2" (any other text is kept as it is).
pub fn short_date(day: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = day.split('-');
    let (Some(_), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return day.to_owned();
    };
    match (m.parse::<usize>(), d.parse::<u32>()) {
        (Ok(m @ 1..=12), Ok(d)) => format!("{} {d}", MONTHS[m - 1]),
        _ => day.to_owned(),
    }
}

/// The value axis: a grid line and label per tick, the axis line, its title.
#[component]
fn ValueAxis(ticks: Vec<f64>, label: String) -> impl IntoView {
    let top = ticks.last().copied().unwrap_or(1.0);
    let mid = (PLOT.top + PLOT.bottom) / 2.0;
    view! {
        <g class="axis axis-y">
            {ticks
                .into_iter()
                .map(|t| {
                    let y = format!("{:.1}", y_at(t, top, PLOT));
                    view! {
                        <line class="grid" x1=PLOT.left x2=PLOT.right y1=y.clone() y2=y.clone() />
                        <text class="tick" x=PLOT.left - 8.0 y=y text-anchor="end" dominant-baseline="middle">
                            {count_label(t)}
                        </text>
                    }
                })
                .collect_view()}
            <line class="axis-line" x1=PLOT.left x2=PLOT.left y1=PLOT.top y2=PLOT.bottom />
            <text
                class="axis-title"
                transform=format!("translate(14 {mid:.1}) rotate(-90)")
                text-anchor="middle"
            >
                {label}
            </text>
        </g>
    }
}

/// The category axis: the labels at `xs` (thinned to fit), the axis line, its title.
#[component]
fn CategoryAxis(labels: Vec<String>, xs: Vec<f64>, label: String) -> impl IntoView {
    let every = label_every(labels.len(), 12);
    view! {
        <g class="axis axis-x">
            <line class="axis-line" x1=PLOT.left x2=PLOT.right y1=PLOT.bottom y2=PLOT.bottom />
            {labels
                .into_iter()
                .zip(xs)
                .enumerate()
                .filter(|(i, _)| i % every == 0)
                .map(|(_, (text, x))| {
                    view! {
                        <text class="tick" x=format!("{x:.1}") y=PLOT.bottom + 18.0 text-anchor="middle">
                            {text}
                        </text>
                    }
                })
                .collect_view()}
            <text class="axis-title" x=(PLOT.left + PLOT.right) / 2.0 y=HEIGHT - 6.0 text-anchor="middle">
                {label}
            </text>
        </g>
    }
}

/// The chart's numbers as a table, folded away under the chart.
#[component]
fn DataTable(
    x_label: String,
    labels: Vec<String>,
    series: Vec<(String, Vec<f64>)>,
) -> impl IntoView {
    view! {
        <details class="chart-data">
            <summary>"Show the numbers"</summary>
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">{x_label}</th>
                        {series.iter().map(|(name, _)| view! { <th scope="col">{name.clone()}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {labels
                        .into_iter()
                        .enumerate()
                        .map(|(i, label)| {
                            view! {
                                <tr>
                                    <th scope="row">{label}</th>
                                    {series
                                        .iter()
                                        .map(|(_, values)| {
                                            view! { <td>{values.get(i).map(|v| count_label(*v)).unwrap_or_default()}</td> }
                                        })
                                        .collect_view()}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice_steps_from_zero_past_the_maximum() {
        assert_eq!(ticks(10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(7.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(ticks(23.0, 5), vec![0.0, 5.0, 10.0, 15.0, 20.0, 25.0]);
        assert_eq!(
            ticks(950.0, 5),
            vec![0.0, 200.0, 400.0, 600.0, 800.0, 1000.0]
        );
        assert_eq!(ticks(1234.0, 4), vec![0.0, 500.0, 1000.0, 1500.0]);
    }

    #[test]
    fn small_counts_step_by_whole_numbers() {
        assert_eq!(ticks(3.0, 5), vec![0.0, 1.0, 2.0, 3.0]);
        assert_eq!(ticks(1.0, 5), vec![0.0, 1.0]);
        assert_eq!(ticks(0.4, 5), vec![0.0, 1.0]);
    }

    #[test]
    fn an_empty_or_broken_series_still_gets_an_axis() {
        assert_eq!(ticks(0.0, 5), vec![0.0, 1.0]);
        assert_eq!(ticks(-3.0, 5), vec![0.0, 1.0]);
        assert_eq!(ticks(f64::NAN, 5), vec![0.0, 1.0]);
        assert_eq!(ticks(5.0, 0), vec![0.0, 5.0]);
    }

    #[test]
    fn the_top_tick_is_never_below_the_maximum() {
        for max in 1..500 {
            let t = ticks(f64::from(max), TICKS);
            let top = *t.last().expect("at least two ticks");
            assert!(top >= f64::from(max), "{max}: top {top}");
            assert!(t.len() <= 2 * TICKS + 1, "{max}: {} ticks", t.len());
        }
    }

    #[test]
    fn values_map_onto_the_plot_from_the_bottom_up() {
        assert_eq!(y_at(0.0, 10.0, PLOT), PLOT.bottom);
        assert_eq!(y_at(10.0, 10.0, PLOT), PLOT.top);
        assert_eq!(y_at(5.0, 10.0, PLOT), (PLOT.top + PLOT.bottom) / 2.0);
        assert_eq!(y_at(20.0, 10.0, PLOT), PLOT.top, "clamped to the plot");
        assert_eq!(y_at(3.0, 0.0, PLOT), PLOT.bottom, "no division by zero");
    }

    #[test]
    fn x_labels_are_thinned_to_fit() {
        assert_eq!(label_every(12, 12), 1);
        assert_eq!(label_every(30, 10), 3);
        assert_eq!(label_every(31, 10), 4);
        assert_eq!(label_every(0, 10), 1);
        assert_eq!(label_every(5, 0), 5);
    }

    #[test]
    fn dates_are_shortened_for_axis_labels() {
        assert_eq!(short_date("2026-03-02"), "Mar 2");
        assert_eq!(short_date("2026-12-31"), "Dec 31");
        assert_eq!(short_date("10+"), "10+");
        assert_eq!(short_date("2026-13-01"), "2026-13-01");
    }
}
