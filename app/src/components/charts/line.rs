//! A line chart of counts over evenly spaced points (days): one line per
//! series, a dot with a tooltip at every point, and a legend that names each
//! line in words and shows its dash pattern, so colour is never the only cue.

use super::{CategoryAxis, DataTable, PLOT, Plot, TICKS, ValueAxis, count_label, ticks, y_at};
use leptos::prelude::*;

/// One line of a [`LineChart`].
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// Its name in the legend ("Daily active").
    pub name: String,
    /// Its style: the CSS class suffix, `line-{key}` (`a`, `b`).
    pub key: &'static str,
    /// One value per label.
    pub values: Vec<f64>,
}

/// The x of each of `count` points, spread evenly from the plot's left edge
/// to its right (a single point sits in the middle).
fn xs(count: usize, plot: Plot) -> Vec<f64> {
    match count {
        0 => Vec::new(),
        1 => vec![(plot.left + plot.right) / 2.0],
        n => {
            let gap = (plot.right - plot.left) / (n - 1) as f64;
            (0..n).map(|i| plot.left + gap * i as f64).collect()
        }
    }
}

/// A polyline's `points` attribute.
fn points(xs: &[f64], values: &[f64], top_tick: f64, plot: Plot) -> String {
    xs.iter()
        .zip(values)
        .map(|(x, v)| format!("{x:.1},{:.1}", y_at(*v, top_tick, plot)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A labelled SVG line chart.
#[component]
pub fn LineChart(
    /// A page-unique id: the test id, and the prefix of the SVG's title ids.
    id: &'static str,
    /// The caption, also the SVG's `<title>`.
    #[prop(into)]
    title: String,
    /// What the chart shows, in a sentence (the SVG's `<desc>`).
    #[prop(into)]
    desc: String,
    /// What the points are ("Day").
    #[prop(into)]
    x_label: String,
    /// What the lines count ("Learners").
    #[prop(into)]
    y_label: String,
    /// One label per point.
    labels: Vec<String>,
    /// The lines.
    series: Vec<Series>,
) -> impl IntoView {
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0, f64::max);
    let axis = ticks(max, TICKS);
    let top = axis.last().copied().unwrap_or(1.0);
    let at = xs(labels.len(), PLOT);
    let empty = labels.is_empty();
    let lines = series
        .iter()
        .map(|s| {
            let dots = at
                .iter()
                .zip(&s.values)
                .zip(&labels)
                .map(|((x, v), label)| {
                    view! {
                        <circle class="dot" cx=format!("{x:.1}") cy=format!("{:.1}", y_at(*v, top, PLOT)) r="3">
                            <title>{format!("{label}: {} {}", count_label(*v), s.name.to_lowercase())}</title>
                        </circle>
                    }
                })
                .collect_view();
            view! {
                <g class=format!("chart-line line-{}", s.key)>
                    <polyline points=points(&at, &s.values, top, PLOT) />
                    {dots}
                </g>
            }
        })
        .collect_view();
    let legend = series
        .iter()
        .map(|s| {
            view! {
                <li>
                    <svg class="legend-key" viewBox="0 0 24 8" aria-hidden="true">
                        <line class=format!("line-{}", s.key) x1="0" y1="4" x2="24" y2="4" />
                    </svg>
                    {s.name.clone()}
                </li>
            }
        })
        .collect_view();
    let table: Vec<(String, Vec<f64>)> = series.into_iter().map(|s| (s.name, s.values)).collect();
    let title_id = format!("{id}-title");
    let desc_id = format!("{id}-desc");
    let labelled_by = format!("{title_id} {desc_id}");
    view! {
        <figure class="chart" data-testid=id>
            <figcaption class="chart-title">{title.clone()}</figcaption>
            <svg
                class="chart-svg"
                viewBox=format!("0 0 {} {}", super::WIDTH, super::HEIGHT)
                role="img"
                aria-labelledby=labelled_by
            >
                <title id=title_id>{title}</title>
                <desc id=desc_id>{desc}</desc>
                <ValueAxis ticks=axis label=y_label />
                <g class="lines">{lines}</g>
                <CategoryAxis labels=labels.clone() xs=at label=x_label.clone() />
                {empty.then(|| view! {
                    <text class="chart-empty" x=(PLOT.left + PLOT.right) / 2.0 y=(PLOT.top + PLOT.bottom) / 2.0 text-anchor="middle">
                        "No data yet"
                    </text>
                })}
            </svg>
            <ul class="chart-legend">{legend}</ul>
            <DataTable x_label labels series=table />
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_spread_from_edge_to_edge() {
        let at = xs(3, PLOT);
        assert_eq!(
            at,
            vec![PLOT.left, (PLOT.left + PLOT.right) / 2.0, PLOT.right]
        );
        assert_eq!(xs(1, PLOT), vec![(PLOT.left + PLOT.right) / 2.0]);
        assert!(xs(0, PLOT).is_empty());
    }

    #[test]
    fn a_line_goes_through_each_value() {
        let at = xs(2, PLOT);
        let line = points(&at, &[0.0, 4.0], 4.0, PLOT);
        assert_eq!(
            line,
            format!(
                "{:.1},{:.1} {:.1},{:.1}",
                PLOT.left, PLOT.bottom, PLOT.right, PLOT.top
            )
        );
    }
}
