//! The dashboards' answers: the views' rows ([`super::queries`]) shaped into
//! [`report`] types, with the model's predictions and the flags' reasons, and
//! cached in Redis until the views are next refreshed.
//!
//! A cached answer's key carries the refresh generation, so a refresh makes
//! every older answer unreachable at once (they expire on their own); between
//! refreshes the views do not change, so neither would the answer. Callers have
//! checked access ([`super::access`]) before asking.

use super::{Insights, queries};
use eduscale_core::insights::flags::{self, Activity, Light, NodeStats};
use eduscale_core::insights::pfa::{ItemRecord, PfaModel};
use eduscale_core::insights::report::{
    AtRisk, BattleRow, CohortHealth, Dashboard, DayPoint, LearnerReport, NodePrediction,
    NodeReport, Overview, Roadblock, Scope, SkillRow, TimelineItem, WeekPoint, WheelSpin,
};
use fred::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::Arc;
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

/// How long a cached answer may live at most (a refresh normally replaces it sooner).
const CACHE_TTL_S: i64 = 900;

/// What can go wrong reading a dashboard: our own faults only.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// PostgreSQL failed.
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// Redis failed.
    #[error("cache: {0}")]
    Cache(#[from] fred::error::Error),
    /// The node is not in any path, or nobody in the scope reached it.
    #[error("no such node")]
    UnknownNode,
}

impl Insights {
    /// `compute`'s answer, from the cache when this generation already has it.
    async fn cached<T, F>(&self, name: &str, key: &str, compute: F) -> Result<T, DashboardError>
    where
        T: Serialize + DeserializeOwned,
        F: AsyncFnOnce() -> Result<T, DashboardError>,
    {
        let (generation, _) = super::refresher::current(&self.redis).await?;
        let cache_key = self
            .redis
            .prefix
            .key(&format!("insights:cache:{generation}:{name}:{key}"));
        let hit: Option<String> = self.redis.pool.get(&cache_key).await?;
        if let Some(json) = hit
            && let Ok(answer) = serde_json::from_str(&json)
        {
            return Ok(answer);
        }
        let answer = compute().await?;
        if let Ok(json) = serde_json::to_string(&answer) {
            let () = self
                .redis
                .pool
                .set(
                    &cache_key,
                    json,
                    Some(Expiration::EX(CACHE_TTL_S)),
                    None,
                    false,
                )
                .await?;
        }
        Ok(answer)
    }

    /// Computes and caches every scope's dashboard for the current generation
    /// (after a refresh, on the instance that refreshed).
    pub async fn warm(&self) -> Result<(), DashboardError> {
        let mut scopes = queries::cohort_ids(&self.db).await?;
        scopes.push(Uuid::nil());
        for scope in scopes {
            self.dashboard(scope).await?;
        }
        Ok(())
    }

    /// The fitted model of this generation, loaded once per generation.
    async fn model(&self) -> Result<Option<Arc<PfaModel>>, DashboardError> {
        let (generation, _) = super::refresher::current(&self.redis).await?;
        if let Some((g, m)) = self.model.lock().unwrap_or_else(|p| p.into_inner()).clone()
            && g == generation
        {
            return Ok(m);
        }
        let loaded = super::model::load(&self.db).await?.map(Arc::new);
        *self.model.lock().unwrap_or_else(|p| p.into_inner()) = Some((generation, loaded.clone()));
        Ok(loaded)
    }

    /// A scope's whole dashboard.
    pub async fn dashboard(&self, scope: Uuid) -> Result<Dashboard, DashboardError> {
        self.cached("dashboard", &scope.to_string(), async || {
            self.dashboard_uncached(scope).await
        })
        .await
    }

    /// [`Self::dashboard`] computed from the views, without the cache.
    pub async fn dashboard_uncached(&self, scope: Uuid) -> Result<Dashboard, DashboardError> {
        let today = today();
        let model = self.model().await?;
        let model = model.as_deref();
        // Independent parts, side by side on the pool.
        let (overview, velocity, engagement, roadblocks, at_risk, wheel_spinning) = tokio::try_join!(
            self.overview(scope),
            async { Ok(queries::velocity(&self.db, scope, today - Duration::weeks(12)).await?) },
            async { Ok(queries::engagement(&self.db, scope, today - Duration::days(29)).await?) },
            self.roadblocks(scope, model),
            self.at_risk(scope, None),
            self.wheel_spinning(scope, model),
        )?;
        Ok(Dashboard {
            overview,
            velocity: velocity
                .into_iter()
                .map(
                    |(week, nodes_passed, learners_passing, active_learners)| WeekPoint {
                        week: week.to_string(),
                        nodes_passed,
                        learners_passing,
                        active_learners,
                    },
                )
                .collect(),
            engagement: engagement
                .into_iter()
                .map(|(day, dau, wau)| DayPoint {
                    day: day.to_string(),
                    dau,
                    wau,
                })
                .collect(),
            roadblocks,
            at_risk,
            wheel_spinning,
        })
    }

    async fn overview(&self, scope: Uuid) -> Result<Overview, DashboardError> {
        let (name, learners) = queries::scope_info(&self.db, scope).await?;
        let (active_7d, passes_7d) = queries::last_week(&self.db, scope).await?;
        let latest = queries::engagement(&self.db, scope, today()).await?;
        let (dau, wau) = latest.last().map_or((0, 0), |(_, d, w)| (*d, *w));
        let (_, refreshed) = super::refresher::current(&self.redis).await?;
        Ok(Overview {
            scope: Scope {
                id: scope.to_string(),
                name,
                learners,
            },
            active_7d,
            passes_7d,
            dau,
            wau,
            refreshed_at: refreshed.and_then(|ms| {
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                    .ok()
                    .map(|t| {
                        format!(
                            "{} {:02}:{:02}:{:02} UTC",
                            t.date(),
                            t.hour(),
                            t.minute(),
                            t.second()
                        )
                    })
            }),
        })
    }

    async fn roadblocks(
        &self,
        scope: Uuid,
        model: Option<&PfaModel>,
    ) -> Result<Vec<Roadblock>, DashboardError> {
        let nodes = queries::node_stats(&self.db, scope, None).await?;
        let stuck = queries::stuck(&self.db, scope).await?;
        let predicted = match model {
            Some(model) => self.predicted_for_stuck(scope, model, &stuck).await?,
            None => HashMap::new(),
        };
        let mut stuck_attempts: HashMap<i64, (i64, i64)> = HashMap::new();
        for (node, _, attempts, _) in &stuck {
            let e = stuck_attempts.entry(*node).or_default();
            e.0 += attempts;
            e.1 += 1;
        }
        let mut out: Vec<Roadblock> = nodes
            .into_iter()
            .map(|n| {
                let stuck_here = stuck_attempts.get(&n.node_id).copied();
                let predicted_pass = predicted.get(&n.node_id).copied();
                let flag = flags::roadblock(
                    n.node_id,
                    &NodeStats {
                        learners: count(n.learners),
                        attempted: count(n.attempted),
                        passed: count(n.passed),
                        dropped: count(n.dropped),
                        mean_attempts_stuck: stuck_here.map(|(a, k)| a as f64 / k.max(1) as f64),
                        predicted_pass,
                    },
                );
                Roadblock {
                    node_id: n.node_id,
                    path_slug: n.path_slug,
                    node_key: n.node_key,
                    title: n.title,
                    learners: n.learners,
                    stuck: stuck_here.map_or(0, |(_, k)| k),
                    attempts: n.attempts,
                    pass_rate: if n.learners > 0 {
                        n.passed as f64 / n.learners as f64
                    } else {
                        0.0
                    },
                    predicted_pass,
                    median_pass_s: n.median_pass_s,
                    dropped: n.dropped,
                    flag,
                }
            })
            .filter(|r| r.flag.light != Light::Green)
            .collect();
        out.sort_by(|a, b| {
            b.flag
                .light
                .cmp(&a.flag.light)
                .then(b.stuck.cmp(&a.stuck))
                .then(a.node_id.cmp(&b.node_id))
        });
        out.truncate(20);
        Ok(out)
    }

    /// Per node, the mean predicted probability that its stuck learners pass next.
    async fn predicted_for_stuck(
        &self,
        scope: Uuid,
        model: &PfaModel,
        stuck: &[(i64, Uuid, i64, i64)],
    ) -> Result<HashMap<i64, f64>, DashboardError> {
        let mut learners: Vec<Uuid> = stuck.iter().map(|(_, u, _, _)| *u).collect();
        learners.sort_unstable();
        learners.dedup();
        let counts = queries::skill_counts(&self.db, scope, 0, Some(&learners)).await?;
        let records = Records::of(counts);
        let skills = node_skills(&queries::node_skills(&self.db).await?);
        let mut sums: HashMap<i64, (f64, u32)> = HashMap::new();
        for (node, learner, attempts, failures) in stuck {
            let Some(node_skills) = skills.get(node) else {
                continue;
            };
            let p = records.predict(
                model,
                *learner,
                Some((*node, count(attempts - failures), count(*failures))),
                node_skills,
            );
            let e = sums.entry(*node).or_default();
            e.0 += p;
            e.1 += 1;
        }
        Ok(sums
            .into_iter()
            .map(|(node, (sum, n))| (node, sum / f64::from(n.max(1))))
            .collect())
    }

    /// The scope's learners flagged amber or red (or `one` learner, flagged or not).
    async fn at_risk(&self, scope: Uuid, one: Option<Uuid>) -> Result<Vec<AtRisk>, DashboardError> {
        let today = today();
        let mut out: Vec<AtRisk> = queries::learners(&self.db, scope, one)
            .await?
            .into_iter()
            .map(|l| {
                let last = l.last_day.unwrap_or(l.joined.date());
                let days_inactive = (today - last).whole_days().max(0);
                let learner = l.user_id.to_string();
                let flag = flags::at_risk(
                    &learner,
                    &Activity {
                        days_inactive: u32::try_from(days_inactive).unwrap_or(u32::MAX),
                        passes_last_week: count(l.passes_7d),
                        passes_previous_three_weeks: count(l.passes_prev_21d),
                    },
                );
                AtRisk {
                    user_id: learner,
                    name: l.name,
                    last_active: l
                        .last_day
                        .map_or_else(|| "never".to_owned(), |d| d.to_string()),
                    days_inactive,
                    passes_7d: l.passes_7d,
                    weekly_before: l.passes_prev_21d as f64 / 3.0,
                    current_streak: l.current_streak,
                    flag,
                }
            })
            .filter(|a| one.is_some() || a.flag.light != Light::Green)
            .collect();
        out.sort_by(|a, b| {
            b.flag
                .light
                .cmp(&a.flag.light)
                .then(b.days_inactive.cmp(&a.days_inactive))
                .then(a.user_id.cmp(&b.user_id))
        });
        out.truncate(50);
        Ok(out)
    }

    async fn wheel_spinning(
        &self,
        scope: Uuid,
        model: Option<&PfaModel>,
    ) -> Result<Vec<WheelSpin>, DashboardError> {
        let Some(model) = model else {
            return Ok(Vec::new());
        };
        let rows = queries::skill_counts(
            &self.db,
            scope,
            i64::from(flags::WHEEL_AMBER_ATTEMPTS),
            None,
        )
        .await?;
        let mut out: Vec<WheelSpin> = rows
            .into_iter()
            .filter_map(|r| {
                let attempts = r.successes + r.failures;
                let predicted = model.predict_counts(
                    &[(&r.skill, count(r.successes), count(r.failures))],
                    count(r.all_successes),
                    count(r.all_failures),
                );
                let learner = r.user_id.to_string();
                let flag = flags::wheel_spinning(&learner, &r.skill, count(attempts), predicted);
                (flag.light != Light::Green).then(|| WheelSpin {
                    name: String::new(),
                    user_id: learner,
                    skill: r.skill,
                    attempts,
                    successes: r.successes,
                    predicted,
                    flag,
                })
            })
            .collect();
        out.sort_by(|a, b| {
            b.flag
                .light
                .cmp(&a.flag.light)
                .then(b.attempts.cmp(&a.attempts))
                .then(a.user_id.cmp(&b.user_id))
        });
        out.truncate(50);
        let ids: Vec<Uuid> = out.iter().filter_map(|w| w.user_id.parse().ok()).collect();
        let names = queries::names(&self.db, &ids).await?;
        for w in &mut out {
            if let Some(name) = w.user_id.parse().ok().and_then(|id: Uuid| names.get(&id)) {
                w.name.clone_from(name);
            }
        }
        Ok(out)
    }

    /// One learner of the scope, drilled into.
    pub async fn learner(
        &self,
        scope: Uuid,
        learner: Uuid,
    ) -> Result<LearnerReport, DashboardError> {
        self.cached("learner", &format!("{scope}:{learner}"), async || {
            self.learner_uncached(scope, learner).await
        })
        .await
    }

    /// [`Self::learner`] without the cache.
    pub async fn learner_uncached(
        &self,
        scope: Uuid,
        learner: Uuid,
    ) -> Result<LearnerReport, DashboardError> {
        {
            // Independent reads, side by side on the pool: the page waits for the
            // slowest, not for their sum.
            let (model, mut at_risk, timeline, battles, counts, paths, mut names, on_nodes) = tokio::try_join!(
                self.model(),
                self.at_risk(scope, Some(learner)),
                async { Ok(queries::timeline(&self.db, learner, 100).await?) },
                async { Ok(queries::battles(&self.db, learner).await?) },
                async { Ok(queries::skill_counts(&self.db, scope, 0, Some(&[learner])).await?) },
                async { Ok(queries::learner_paths(&self.db, learner).await?) },
                async { Ok(queries::names(&self.db, &[learner]).await?) },
                async { Ok::<_, DashboardError>(queries::node_counts(&self.db, learner).await?) },
            )?;
            let at_risk = at_risk.pop();
            let timeline = timeline
                .into_iter()
                .map(|e| TimelineItem {
                    at: minute(e.at),
                    what: describe(&e),
                    kind: e.kind,
                })
                .collect();
            let battles = battles
                .into_iter()
                .map(|(battle, at, rank, players, rating, change)| BattleRow {
                    battle_id: battle.to_string(),
                    at: at.map(minute).unwrap_or_default(),
                    rank,
                    players: i32::try_from(players).unwrap_or(i32::MAX),
                    rating,
                    rating_change: change,
                })
                .collect();
            let records = Records::of(counts.clone());
            let mut skills: Vec<SkillRow> = counts
                .into_iter()
                .map(|c| SkillRow {
                    predicted: model
                        .as_deref()
                        .map(|m| records.predict(m, learner, None, std::slice::from_ref(&c.skill))),
                    skill: c.skill,
                    successes: c.successes,
                    failures: c.failures,
                })
                .collect();
            skills.sort_by(|a, b| {
                a.predicted
                    .unwrap_or(1.0)
                    .total_cmp(&b.predicted.unwrap_or(1.0))
            });
            let predictions = self
                .open_node_predictions(learner, &paths, model.as_deref(), &records, &on_nodes)
                .await?;
            let name = names.remove(&learner).unwrap_or_default();
            Ok(LearnerReport {
                user_id: learner.to_string(),
                name,
                timeline,
                battles,
                skills,
                predictions,
                paths: paths
                    .into_iter()
                    .map(|(_, slug, title)| (slug, title))
                    .collect(),
                at_risk,
            })
        }
    }

    /// The model's probability for each node the learner can work on now.
    async fn open_node_predictions(
        &self,
        learner: Uuid,
        paths: &[(Uuid, String, String)],
        model: Option<&PfaModel>,
        records: &Records,
        on_nodes: &HashMap<i64, (i64, i64)>,
    ) -> Result<Vec<NodePrediction>, DashboardError> {
        // One recursive CTE per path, side by side; then just those nodes' names
        // and skills in one read.
        let per_path =
            futures_util::future::try_join_all(paths.iter().map(|(path, slug, _)| async move {
                let open =
                    crate::paths::queries::open_nodes_with_ids(&self.db, learner, *path).await?;
                Ok::<_, sqlx::Error>(open.into_iter().map(move |n| (slug, n.id)))
            }))
            .await?;
        let open: Vec<(&String, i64)> = per_path.into_iter().flatten().collect();
        let node_ids: Vec<i64> = open.iter().map(|(_, id)| *id).collect();
        let details: HashMap<i64, queries::NodeSkills> =
            queries::nodes_with_skills(&self.db, &node_ids)
                .await?
                .into_iter()
                .map(|n| (n.id, n))
                .collect();
        let mut out = Vec::with_capacity(open.len());
        for (slug, id) in open {
            let Some(detail) = details.get(&id) else {
                continue;
            };
            let predicted = match model {
                Some(m) if !detail.skills.is_empty() => {
                    let (attempts, failures) = on_nodes.get(&id).copied().unwrap_or((0, 0));
                    let here = (id, count(attempts - failures), count(failures));
                    Some(records.predict(m, learner, Some(here), &detail.skills))
                }
                _ => None,
            };
            out.push(NodePrediction {
                path_slug: slug.clone(),
                node_key: detail.key.clone(),
                title: detail.title.clone(),
                predicted,
            });
        }
        out.sort_by(|a, b| {
            a.predicted
                .unwrap_or(2.0)
                .total_cmp(&b.predicted.unwrap_or(2.0))
        });
        Ok(out)
    }

    /// One node, drilled into, for a scope.
    pub async fn node(&self, scope: Uuid, node: i64) -> Result<NodeReport, DashboardError> {
        self.cached("node", &format!("{scope}:{node}"), async || {
            self.node_uncached(scope, node).await
        })
        .await
    }

    /// [`Self::node`] without the cache.
    pub async fn node_uncached(
        &self,
        scope: Uuid,
        node: i64,
    ) -> Result<NodeReport, DashboardError> {
        {
            let (mut stats, counts, wrong_verdicts) = tokio::try_join!(
                queries::node_stats(&self.db, scope, Some(node)),
                queries::attempt_counts(&self.db, scope, node),
                queries::wrong_verdicts(&self.db, scope, node),
            )?;
            let Some(stats) = stats.pop() else {
                return Err(DashboardError::UnknownNode);
            };
            let mut histogram: Vec<(String, i64)> = (0..10)
                .map(|i| (i.to_string(), 0))
                .chain([("10+".to_owned(), 0)])
                .collect();
            for (attempts, learners) in counts {
                let bucket = usize::try_from(attempts.clamp(0, 10)).unwrap_or(10);
                histogram[bucket].1 += learners;
            }
            Ok(NodeReport {
                node_id: stats.node_id,
                path_slug: stats.path_slug,
                node_key: stats.node_key,
                title: stats.title,
                learners: stats.learners,
                passed: stats.passed,
                attempts: stats.attempts,
                median_pass_s: stats.median_pass_s,
                attempt_histogram: histogram,
                wrong_verdicts,
            })
        }
    }

    /// Every cohort's health, for admins.
    pub async fn health(&self) -> Result<Vec<CohortHealth>, DashboardError> {
        self.cached("health", "all", async || {
            Ok(queries::health(&self.db)
                .await?
                .into_iter()
                .map(|h| CohortHealth {
                    scope: Scope {
                        id: h.id.to_string(),
                        name: h.name,
                        learners: h.learners,
                    },
                    instructor: h.instructor,
                    active_7d: h.active_7d,
                    passes_7d: h.passes_7d,
                    pass_rate: (h.attempts > 0).then(|| h.successes as f64 / h.attempts as f64),
                    inactive: h.inactive,
                })
                .collect())
        })
        .await
    }
}

/// Learners' skill records, indexed for prediction.
struct Records {
    by_learner: HashMap<Uuid, LearnerRecord>,
}

/// One learner's `(passed, failed)` per skill, and over everything.
#[derive(Default)]
struct LearnerRecord {
    skills: HashMap<String, (u32, u32)>,
    successes: u32,
    failures: u32,
}

impl Records {
    fn of(rows: Vec<queries::SkillCounts>) -> Records {
        let mut by_learner: HashMap<Uuid, LearnerRecord> = HashMap::new();
        for r in rows {
            let e = by_learner
                .entry(r.user_id)
                .or_insert_with(|| LearnerRecord {
                    skills: HashMap::new(),
                    successes: count(r.all_successes),
                    failures: count(r.all_failures),
                });
            e.skills
                .insert(r.skill, (count(r.successes), count(r.failures)));
        }
        Records { by_learner }
    }

    /// The probability that `learner` passes their next attempt at an item with
    /// `skills`: at node `(id, passed, failed attempts there)` when given, else
    /// at a typical node.
    fn predict(
        &self,
        model: &PfaModel,
        learner: Uuid,
        node: Option<(i64, u32, u32)>,
        skills: &[String],
    ) -> f64 {
        let empty = LearnerRecord::default();
        let record = self.by_learner.get(&learner).unwrap_or(&empty);
        let counts: Vec<(&str, u32, u32)> = skills
            .iter()
            .map(|k| {
                let (ks, kf) = record.skills.get(k).copied().unwrap_or((0, 0));
                (k.as_str(), ks, kf)
            })
            .collect();
        let item = node.map(|(id, ks, kf)| (id.to_string(), ks, kf));
        let item = item.as_ref().map(|(name, ks, kf)| ItemRecord {
            item: name,
            successes: *ks,
            failures: *kf,
        });
        model.predict_at(item, &counts, record.successes, record.failures)
    }
}

fn node_skills(rows: &[(i64, String)]) -> HashMap<i64, Vec<String>> {
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for (node, skill) in rows {
        out.entry(*node).or_default().push(skill.clone());
    }
    out
}

fn describe(e: &queries::TimelineRow) -> String {
    let node = e.node_title.as_deref().unwrap_or("");
    match (e.kind.as_str(), &e.verdict, e.battle_id, &e.page) {
        ("verdict", Some(v), _, _) => format!("{node}: {v}"),
        (_, _, Some(b), _) => format!("battle {b}"),
        (_, _, _, Some(page)) => page.clone(),
        _ => node.to_owned(),
    }
}

fn count(n: i64) -> u32 {
    u32::try_from(n.max(0)).unwrap_or(u32::MAX)
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

fn minute(t: OffsetDateTime) -> String {
    format!("{} {:02}:{:02} UTC", t.date(), t.hour(), t.minute())
}
