//! The dashboard's series as the charts draw them: the last 12 weeks of
//! velocity and the last 30 days of engagement, every week and day present.
//! The views only hold rows where something happened, so without this a quiet
//! week would vanish from the chart instead of showing as zero.
//!
//! "Today" comes from the data, never the browser's clock (the server and the
//! browser must draw the same chart): the day the views were last refreshed,
//! else the latest day in the series.

use eduscale_core::insights::report::{Dashboard, DayPoint, WeekPoint};

/// Weeks on the velocity chart.
pub const WEEKS: i64 = 12;
/// Days on the engagement chart.
pub const DAYS: i64 = 30;

/// Days since 1970-01-01 of a `YYYY-MM-DD` date (H. Hinnant's `days_from_civil`).
fn day_number(date: &str) -> Option<i64> {
    let mut parts = date.get(..10)?.split('-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The `YYYY-MM-DD` of a day number (`civil_from_days`).
fn date_of(n: i64) -> String {
    let z = n + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The Monday on or before day `n` (weeks start on Monday, as in the views;
/// 1970-01-01 was a Thursday).
fn monday_of(n: i64) -> i64 {
    n - (n + 3).rem_euclid(7)
}

/// The dashboard's "today" as a day number, if it has any date at all.
fn today(dashboard: &Dashboard) -> Option<i64> {
    let refreshed = dashboard
        .overview
        .refreshed_at
        .as_deref()
        .and_then(day_number);
    let latest = || {
        let days = dashboard
            .engagement
            .iter()
            .filter_map(|d| day_number(&d.day));
        let weeks = dashboard
            .velocity
            .iter()
            .filter_map(|w| day_number(&w.week));
        days.chain(weeks).max()
    };
    refreshed.or_else(latest)
}

/// The last [`WEEKS`] weeks up to today's, oldest first, zero where the view has no row.
pub fn weeks(dashboard: &Dashboard) -> Vec<WeekPoint> {
    let Some(today) = today(dashboard) else {
        return dashboard.velocity.clone();
    };
    let last = monday_of(today);
    (0..WEEKS)
        .rev()
        .map(|back| {
            let week = date_of(last - back * 7);
            dashboard
                .velocity
                .iter()
                .find(|w| w.week == week)
                .cloned()
                .unwrap_or(WeekPoint {
                    week,
                    nodes_passed: 0,
                    learners_passing: 0,
                    active_learners: 0,
                })
        })
        .collect()
}

/// The last [`DAYS`] days up to today, oldest first, zero where the view has no row.
pub fn days(dashboard: &Dashboard) -> Vec<DayPoint> {
    let Some(today) = today(dashboard) else {
        return dashboard.engagement.clone();
    };
    (0..DAYS)
        .rev()
        .map(|back| {
            let day = date_of(today - back);
            dashboard
                .engagement
                .iter()
                .find(|d| d.day == day)
                .cloned()
                .unwrap_or(DayPoint {
                    day,
                    dau: 0,
                    wau: 0,
                })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use eduscale_core::insights::report::{Overview, Scope};

    fn dashboard(
        refreshed: Option<&str>,
        velocity: &[(&str, i64)],
        days: &[(&str, i64)],
    ) -> Dashboard {
        Dashboard {
            overview: Overview {
                scope: Scope {
                    id: "c".into(),
                    name: "C".into(),
                    learners: 3,
                },
                active_7d: 0,
                passes_7d: 0,
                dau: 0,
                wau: 0,
                refreshed_at: refreshed.map(str::to_owned),
            },
            velocity: velocity
                .iter()
                .map(|(week, n)| WeekPoint {
                    week: (*week).into(),
                    nodes_passed: *n,
                    learners_passing: 1,
                    active_learners: 1,
                })
                .collect(),
            engagement: days
                .iter()
                .map(|(day, n)| DayPoint {
                    day: (*day).into(),
                    dau: *n,
                    wau: *n,
                })
                .collect(),
            roadblocks: vec![],
            at_risk: vec![],
            wheel_spinning: vec![],
        }
    }

    #[test]
    fn dates_and_day_numbers_round_trip() {
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert_eq!(day_number("2000-03-01"), Some(11_017));
        assert_eq!(day_number("2024-02-29 10:00:00 UTC"), Some(19_782));
        for n in [-1, 0, 59, 60, 11_016, 19_782, 20_000, 400_000, 2_000_000] {
            assert_eq!(day_number(&date_of(n)), Some(n), "{}", date_of(n));
        }
        assert_eq!(day_number("2024-13-01"), None);
        assert_eq!(day_number("soon"), None);
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2026-03-04 is a Wednesday; 2026-03-02 the Monday before it.
        let wednesday = day_number("2026-03-04").expect("a date");
        assert_eq!(date_of(monday_of(wednesday)), "2026-03-02");
        let monday = day_number("2026-03-02").expect("a date");
        assert_eq!(monday_of(monday), monday);
        let sunday = day_number("2026-03-08").expect("a date");
        assert_eq!(date_of(monday_of(sunday)), "2026-03-02");
    }

    #[test]
    fn quiet_weeks_show_as_zero_up_to_the_refresh() {
        let d = dashboard(
            Some("2026-03-04 09:15:00 UTC"),
            &[("2026-02-16", 4), ("2026-03-02", 7)],
            &[],
        );
        let weeks = weeks(&d);
        assert_eq!(weeks.len(), WEEKS as usize);
        assert_eq!(weeks.last().map(|w| w.week.as_str()), Some("2026-03-02"));
        assert_eq!(weeks[0].week, "2025-12-15");
        let passed: Vec<i64> = weeks.iter().map(|w| w.nodes_passed).collect();
        assert_eq!(&passed[8..], &[0, 4, 0, 7]);
    }

    #[test]
    fn thirty_days_end_on_the_latest_day_without_a_refresh() {
        let d = dashboard(None, &[], &[("2026-01-10", 2), ("2026-01-30", 5)]);
        let days = days(&d);
        assert_eq!(days.len(), DAYS as usize);
        assert_eq!(days[0].day, "2026-01-01");
        assert_eq!(days[29].day, "2026-01-30");
        assert_eq!(days[9].dau, 2);
        assert_eq!(days.iter().map(|d| d.dau).sum::<i64>(), 7);
    }

    #[test]
    fn no_dates_at_all_leaves_the_series_empty() {
        let d = dashboard(None, &[], &[]);
        assert!(weeks(&d).is_empty());
        assert!(days(&d).is_empty());
    }
}
