//! One event: something a learner did, stamped with server time.
//!
//! Constructed by the capabilities that see it happen (the runner's endpoint, path
//! attempts, the arena, log-in) and by the browser's page-view beacon, which may
//! only report page views: results are never taken from a client.

use time::OffsetDateTime;
use uuid::Uuid;

/// What happened (the `kind` column; a CHECK constraint lists the same names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Signed in.
    LogIn,
    /// Opened a page (reported by the browser).
    PageView,
    /// Opened a node of a path.
    NodeViewed,
    /// Ran code (playground, challenge, battle).
    Run,
    /// Submitted a solution for judging.
    Submitted,
    /// A submission on a node was judged.
    Verdict,
    /// Passed a node.
    NodePassed,
    /// A remedial node opened.
    RemediationOpened,
    /// Took a seat in a battle.
    BattleJoined,
    /// A battle they played finished.
    BattleFinished,
}

impl Kind {
    /// The name stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::LogIn => "log_in",
            Kind::PageView => "page_view",
            Kind::NodeViewed => "node_viewed",
            Kind::Run => "run",
            Kind::Submitted => "submitted",
            Kind::Verdict => "verdict",
            Kind::NodePassed => "node_passed",
            Kind::RemediationOpened => "remediation_opened",
            Kind::BattleJoined => "battle_joined",
            Kind::BattleFinished => "battle_finished",
        }
    }
}

/// The longest page path a page view keeps (the column's CHECK says the same).
pub const MAX_PAGE_CHARS: usize = 300;

/// One event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Server time, when it was recorded.
    pub at: OffsetDateTime,
    /// Who.
    pub user: Uuid,
    /// What.
    pub kind: Kind,
    /// The path node it concerns.
    pub node: Option<i64>,
    /// The battle it concerns.
    pub battle: Option<i64>,
    /// For verdicts: whether every test passed, and the verdict's name.
    pub passed: Option<bool>,
    /// See `passed`.
    pub verdict: Option<String>,
    /// For page views: the page's path.
    pub page: Option<String>,
}

impl Event {
    /// `user` did `kind`, now.
    pub fn new(user: Uuid, kind: Kind) -> Self {
        Event {
            at: OffsetDateTime::now_utc(),
            user,
            kind,
            node: None,
            battle: None,
            passed: None,
            verdict: None,
            page: None,
        }
    }

    /// About this path node.
    pub fn on_node(mut self, node: i64) -> Self {
        self.node = Some(node);
        self
    }

    /// About this battle.
    pub fn in_battle(mut self, battle: i64) -> Self {
        self.battle = Some(battle);
        self
    }

    /// A judged submission on a node.
    pub fn verdict(user: Uuid, node: i64, passed: bool, verdict: &str) -> Self {
        let mut e = Event::new(user, Kind::Verdict).on_node(node);
        e.passed = Some(passed);
        e.verdict = Some(verdict.to_owned());
        e
    }

    /// A page view; the path is cut to [`MAX_PAGE_CHARS`] characters.
    pub fn page_view(user: Uuid, page: &str) -> Self {
        let mut e = Event::new(user, Kind::PageView);
        e.page = Some(page.chars().take(MAX_PAGE_CHARS).collect());
        e
    }
}
