//! A bar chart of counts by category (weeks, attempt counts): one bar per
//! label, its value written above it when there is room, a tooltip on each.

use super::{CategoryAxis, DataTable, PLOT, Plot, TICKS, ValueAxis, count_label, ticks, y_at};
use leptos::prelude::*;

/// Bars this many or fewer get their value written above them.
const LABELLED_BARS: usize = 16;

/// One bar's rectangle in the view box.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Bar {
    x: f64,
    y: f64,
    width: f64,
    height: f64,
}

/// The bars of `values` on an axis topped by `top_tick`: equal bands across
/// the plot, each bar 70% of its band, centred.
fn bars(values: &[f64], top_tick: f64, plot: Plot) -> Vec<Bar> {
    let band = (plot.right - plot.left) / values.len().max(1) as f64;
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let y = y_at(v, top_tick, plot);
            Bar {
                x: plot.left + band * (i as f64 + 0.15),
                y,
                width: band * 0.7,
                height: plot.bottom - y,
            }
        })
        .collect()
}

/// A labelled SVG bar chart.
#[component]
pub fn BarChart(
    /// A page-unique id: the test id, and the prefix of the SVG's title ids.
    id: &'static str,
    /// The caption, also the SVG's `<title>`.
    #[prop(into)]
    title: String,
    /// What the chart shows, in a sentence (the SVG's `<desc>`).
    #[prop(into)]
    desc: String,
    /// What the categories are ("Week starting").
    #[prop(into)]
    x_label: String,
    /// What the bars count ("Nodes passed").
    #[prop(into)]
    y_label: String,
    /// One label per bar.
    labels: Vec<String>,
    /// One count per bar.
    values: Vec<f64>,
) -> impl IntoView {
    let axis = ticks(values.iter().copied().fold(0.0, f64::max), TICKS);
    let top = axis.last().copied().unwrap_or(1.0);
    let laid = bars(&values, top, PLOT);
    let xs: Vec<f64> = laid.iter().map(|b| b.x + b.width / 2.0).collect();
    let labelled = values.len() <= LABELLED_BARS;
    let empty = values.is_empty();
    let drawn = laid
        .iter()
        .zip(labels.iter().zip(&values))
        .map(|(b, (label, v))| {
            let cx = b.x + b.width / 2.0;
            view! {
                <rect
                    class="chart-bar"
                    x=format!("{:.1}", b.x)
                    y=format!("{:.1}", b.y)
                    width=format!("{:.1}", b.width)
                    height=format!("{:.1}", b.height)
                >
                    <title>{format!("{label}: {}", count_label(*v))}</title>
                </rect>
                {labelled.then(|| view! {
                    <text class="bar-value" x=format!("{cx:.1}") y=format!("{:.1}", b.y - 5.0) text-anchor="middle">
                        {count_label(*v)}
                    </text>
                })}
            }
        })
        .collect_view();
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
                <ValueAxis ticks=axis label=y_label.clone() />
                <g class="bars">{drawn}</g>
                <CategoryAxis labels=labels.clone() xs label=x_label.clone() />
                {empty.then(|| view! {
                    <text class="chart-empty" x=(PLOT.left + PLOT.right) / 2.0 y=(PLOT.top + PLOT.bottom) / 2.0 text-anchor="middle">
                        "No data yet"
                    </text>
                })}
            </svg>
            <DataTable x_label labels series=vec![(y_label, values)] />
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_share_the_width_and_rise_from_the_axis() {
        let laid = bars(&[0.0, 5.0, 10.0, 2.5], 10.0, PLOT);
        let band = (PLOT.right - PLOT.left) / 4.0;
        assert_eq!(laid.len(), 4);
        assert!((laid[0].x - (PLOT.left + 0.15 * band)).abs() < 1e-9);
        assert!((laid[3].x + laid[3].width - (PLOT.right - 0.15 * band)).abs() < 1e-9);
        assert_eq!(laid[0].height, 0.0);
        assert_eq!(laid[2].y, PLOT.top);
        assert!((laid[1].height * 2.0 - laid[2].height).abs() < 1e-9);
        assert!((laid[3].height * 4.0 - laid[2].height).abs() < 1e-9);
        for b in &laid {
            assert!(
                (b.y + b.height - PLOT.bottom).abs() < 1e-9,
                "every bar stands on the axis"
            );
        }
    }

    #[test]
    fn no_values_no_bars() {
        assert!(bars(&[], 1.0, PLOT).is_empty());
    }
}
