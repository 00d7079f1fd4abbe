//! Reads the `content/` folder (format in `content/README.md`) into checked
//! paths and challenges, ready to import.
//!
//! In: a folder. Out: [`Content`], or every problem found, each naming the file,
//! the line and what is wrong. Nothing here touches the database: import is all
//! or nothing because nothing is written until the whole folder has been read
//! and checked. TOML spans give the lines; the graph rules (cycles, guards) are
//! core's [`PathGraph::validate`], so the importer and the reference agree.

use super::markdown;
use eduscale_core::code::{Checker, Language, Limits, TestCase};
use eduscale_core::paths::{Edge, GraphError, Node, NodeKind, PathGraph};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// Bumped when rendering changes, so unchanged files are re-rendered once.
const RENDER_VERSION: &str = "1";

/// One problem in the content, where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentError {
    /// The file, relative to the content folder's parent when possible.
    pub file: PathBuf,
    /// 1-based line, when the problem has one.
    pub line: Option<usize>,
    /// What is wrong, for the author.
    pub message: String,
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file.display(), self.message),
            None => write!(f, "{}: {}", self.file.display(), self.message),
        }
    }
}

/// Every problem found; the import stops before writing anything.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ContentErrors(pub Vec<ContentError>);

impl fmt::Display for ContentErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        writeln!(
            f,
            "content has {n} problem{}:",
            if n == 1 { "" } else { "s" }
        )?;
        for e in &self.0 {
            writeln!(f, "  {e}")?;
        }
        Ok(())
    }
}

/// Everything in a content folder, checked.
#[derive(Debug, Clone)]
pub struct Content {
    /// Challenges, by slug order.
    pub challenges: Vec<ChallengeContent>,
    /// Paths, in their list order.
    pub paths: Vec<PathContent>,
}

/// One challenge folder.
#[derive(Debug, Clone)]
pub struct ChallengeContent {
    /// The folder's name.
    pub slug: String,
    /// Its title.
    pub title: String,
    /// The statement as written (Markdown).
    pub statement: String,
    /// The statement as HTML, code highlighted.
    pub statement_html: String,
    /// 1 (easy) to 5.
    pub difficulty: u8,
    /// Whether battles may use it.
    pub battle: bool,
    /// Skill tags.
    pub skills: Vec<String>,
    /// Languages it can be solved in.
    pub languages: Vec<Language>,
    /// Starter code per language id.
    pub starters: BTreeMap<String, String>,
    /// How output is compared.
    pub checker: Checker,
    /// What one case's run may use.
    pub limits: Limits,
    /// Its cases in order.
    pub tests: Vec<TestCase>,
    /// Reference solutions (never imported; the content tests run them).
    pub solutions: Vec<(Language, String)>,
    /// Plausible wrong solutions that hidden tests must catch (never imported).
    pub wrong: Vec<(Language, String)>,
    /// Hash of what is imported, to skip unchanged challenges.
    pub hash: String,
}

/// One path file.
#[derive(Debug, Clone)]
pub struct PathContent {
    /// The file's name without `.toml`.
    pub slug: String,
    /// Its title.
    pub title: String,
    /// One or two sentences for the list.
    pub summary: String,
    /// The language its challenges start in.
    pub language: Language,
    /// Its place in the list.
    pub order: i32,
    /// The graph, checked by core.
    pub graph: PathGraph,
    /// Per node (same order as `graph.nodes`): what it shows.
    pub bodies: Vec<NodeBody>,
    /// Hash of what is imported.
    pub hash: String,
}

/// What a node shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeBody {
    /// A lesson's text, as HTML.
    Lesson { html: String },
    /// A challenge (or checkpoint): the challenge's slug.
    Challenge { slug: String },
}

/// Reads and checks the content folder at `root`.
pub fn load(root: &Path) -> Result<Content, ContentErrors> {
    let mut errors = Vec::new();
    let challenges = load_challenges(root, &mut errors);
    let known: HashMap<&str, &ChallengeContent> =
        challenges.iter().map(|c| (c.slug.as_str(), c)).collect();
    let mut paths = Vec::new();
    for file in sorted_entries(&root.join("paths"), &mut errors, |p| {
        p.extension().is_some_and(|e| e == "toml")
    }) {
        if let Some(path) = load_path(root, &file, &known, &mut errors) {
            paths.push(path);
        }
    }
    if paths.is_empty() && errors.is_empty() {
        errors.push(ContentError {
            file: root.join("paths"),
            line: None,
            message: "no path files (paths/<slug>.toml) found".into(),
        });
    }
    paths.sort_by(|a, b| (a.order, &a.slug).cmp(&(b.order, &b.slug)));
    if errors.is_empty() {
        Ok(Content { challenges, paths })
    } else {
        Err(ContentErrors(errors))
    }
}

/// The entries of `dir` that `keep` accepts, sorted so errors come out in a stable order.
fn sorted_entries(
    dir: &Path,
    errors: &mut Vec<ContentError>,
    keep: impl Fn(&Path) -> bool,
) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            let mut found: Vec<PathBuf> = entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| keep(p))
                .collect();
            found.sort();
            found
        }
        Err(e) => {
            errors.push(ContentError {
                file: dir.to_owned(),
                line: None,
                message: format!("cannot read the folder: {e}"),
            });
            Vec::new()
        }
    }
}

fn read(file: &Path, errors: &mut Vec<ContentError>) -> Option<String> {
    match std::fs::read_to_string(file) {
        Ok(text) => Some(text),
        Err(e) => {
            errors.push(ContentError {
                file: file.to_owned(),
                line: None,
                message: if e.kind() == std::io::ErrorKind::NotFound {
                    "missing file".into()
                } else {
                    format!("cannot read it: {e}")
                },
            });
            None
        }
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Parses TOML, turning a syntax or shape error into a pointed [`ContentError`].
fn parse_toml<T: serde::de::DeserializeOwned>(
    file: &Path,
    text: &str,
    errors: &mut Vec<ContentError>,
) -> Option<T> {
    match toml::from_str(text) {
        Ok(value) => Some(value),
        Err(e) => {
            errors.push(ContentError {
                file: file.to_owned(),
                line: e.span().map(|s| line_of(text, s.start)),
                message: e.message().trim().to_owned(),
            });
            None
        }
    }
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 80
        && s.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChallengeFile {
    title: Spanned<String>,
    difficulty: Spanned<u8>,
    #[serde(default)]
    battle: bool,
    #[serde(default)]
    skills: Vec<Spanned<String>>,
    languages: Vec<Spanned<String>>,
    time_limit_ms: Option<Spanned<u32>>,
    #[serde(default)]
    checker: Checker,
    #[serde(default)]
    tests: Vec<TestEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestEntry {
    input: String,
    output: String,
    #[serde(default)]
    visible: bool,
}

fn load_challenges(root: &Path, errors: &mut Vec<ContentError>) -> Vec<ChallengeContent> {
    sorted_entries(&root.join("challenges"), errors, |p| p.is_dir())
        .iter()
        .filter_map(|dir| load_challenge(dir, errors))
        .collect()
}

fn load_challenge(dir: &Path, errors: &mut Vec<ContentError>) -> Option<ChallengeContent> {
    let slug = dir.file_name()?.to_string_lossy().into_owned();
    let file = dir.join("challenge.toml");
    let before = errors.len();
    let mut problem = |line: Option<usize>, message: String| {
        errors.push(ContentError {
            file: file.clone(),
            line,
            message,
        })
    };
    if !is_slug(&slug) {
        problem(
            None,
            format!("the folder name {slug:?} must be lower-case words joined by dashes"),
        );
    }
    let text = read(&file, errors)?;
    let parsed: ChallengeFile = parse_toml(&file, &text, errors)?;
    let at = |span: std::ops::Range<usize>| Some(line_of(&text, span.start));
    let mut problem = |line: Option<usize>, message: String| {
        errors.push(ContentError {
            file: file.clone(),
            line,
            message,
        })
    };
    let title = parsed.title.get_ref().trim().to_owned();
    if title.is_empty() || title.chars().count() > 120 {
        problem(
            at(parsed.title.span()),
            "title must be 1 to 120 characters".into(),
        );
    }
    let difficulty = *parsed.difficulty.get_ref();
    if !(1..=5).contains(&difficulty) {
        problem(
            at(parsed.difficulty.span()),
            "difficulty must be 1 to 5".into(),
        );
    }
    for skill in &parsed.skills {
        if !is_slug(skill.get_ref()) {
            problem(
                at(skill.span()),
                format!(
                    "skill {:?} must be lower-case words joined by dashes",
                    skill.get_ref()
                ),
            );
        }
    }
    let mut languages = Vec::new();
    for l in &parsed.languages {
        match Language::from_id(l.get_ref()) {
            Some(language) if !languages.contains(&language) => languages.push(language),
            Some(_) => problem(
                at(l.span()),
                format!("language {:?} is listed twice", l.get_ref()),
            ),
            None => problem(
                at(l.span()),
                format!(
                    "unknown language {:?} (known: {})",
                    l.get_ref(),
                    Language::ALL.map(Language::id).join(", ")
                ),
            ),
        }
    }
    if parsed.languages.is_empty() {
        problem(None, "languages must list at least one language".into());
    }
    if parsed.tests.is_empty() {
        problem(None, "a challenge needs at least one [[tests]] case".into());
    } else if !parsed.tests.iter().any(|t| !t.visible) {
        problem(
            None,
            "a challenge needs at least one hidden test (visible = false)".into(),
        );
    }
    let mut limits = Limits::default();
    if let Some(ms) = &parsed.time_limit_ms {
        let ms = *ms.get_ref();
        if ms == 0 || ms > 30_000 {
            problem(
                at(parsed.time_limit_ms.as_ref()?.span()),
                "time_limit_ms must be 1 to 30000".into(),
            );
        }
        limits.wall = Duration::from_millis(ms.into());
    }
    let statement = read(&dir.join("statement.md"), errors).unwrap_or_default();
    let mut starters = BTreeMap::new();
    let mut solutions = Vec::new();
    let mut wrong = Vec::new();
    for &language in &languages {
        let ext = language.extension();
        if let Some(code) = read(&dir.join(format!("starter.{ext}")), errors) {
            starters.insert(language.id().to_owned(), code);
        }
        if let Ok(code) = std::fs::read_to_string(dir.join(format!("solution.{ext}"))) {
            solutions.push((language, code));
        }
        if let Ok(code) = std::fs::read_to_string(dir.join(format!("wrong.{ext}"))) {
            wrong.push((language, code));
        }
    }
    if errors.len() > before {
        return None;
    }
    let tests: Vec<TestCase> = parsed
        .tests
        .into_iter()
        .map(|t| TestCase {
            stdin: t.input,
            expected: t.output,
            visible: t.visible,
        })
        .collect();
    let statement_html = markdown::render(&statement);
    let hash = hash_of(&[
        RENDER_VERSION,
        &text,
        &statement,
        &serde_json::to_string(&starters).unwrap_or_default(),
    ]);
    Some(ChallengeContent {
        slug,
        title,
        statement,
        statement_html,
        difficulty,
        battle: parsed.battle,
        skills: parsed.skills.into_iter().map(Spanned::into_inner).collect(),
        languages,
        starters,
        checker: parsed.checker,
        limits,
        tests,
        solutions,
        wrong,
        hash,
    })
}

fn hash_of(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PathFile {
    title: Spanned<String>,
    #[serde(default)]
    summary: String,
    language: Spanned<String>,
    #[serde(default)]
    order: i32,
    #[serde(default)]
    nodes: Vec<Spanned<NodeEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NodeEntry {
    key: Spanned<String>,
    kind: Spanned<String>,
    title: Option<String>,
    lesson: Option<Spanned<String>>,
    challenge: Option<Spanned<String>>,
    #[serde(default)]
    requires: Vec<Spanned<Requirement>>,
    #[serde(default)]
    any_of: Vec<Vec<Spanned<Requirement>>>,
    remedial_for: Option<Spanned<String>>,
    #[serde(default)]
    guards: Vec<Spanned<String>>,
    pass_score: Option<Spanned<u8>>,
    remediate_after_failures: Option<Spanned<u32>>,
    remediate_below_score: Option<Spanned<u8>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Requirement {
    Key(String),
    Scored { node: String, min_score: u8 },
}

impl Requirement {
    fn parts(&self) -> (&str, u8) {
        match self {
            Requirement::Key(key) => (key, 100),
            Requirement::Scored { node, min_score } => (node, *min_score),
        }
    }
}

fn load_path(
    root: &Path,
    file: &Path,
    challenges: &HashMap<&str, &ChallengeContent>,
    errors: &mut Vec<ContentError>,
) -> Option<PathContent> {
    let slug = file.file_stem()?.to_string_lossy().into_owned();
    let text = read(file, errors)?;
    let parsed: PathFile = parse_toml(file, &text, errors)?;
    let before = errors.len();
    let at = |span: std::ops::Range<usize>| Some(line_of(&text, span.start));
    let mut problem = |line: Option<usize>, message: String| {
        errors.push(ContentError {
            file: file.to_owned(),
            line,
            message,
        })
    };
    if !is_slug(&slug) {
        problem(
            None,
            format!("the file name {slug:?} must be lower-case words joined by dashes"),
        );
    }
    let title = parsed.title.get_ref().trim().to_owned();
    if title.is_empty() || title.chars().count() > 120 {
        problem(
            at(parsed.title.span()),
            "title must be 1 to 120 characters".into(),
        );
    }
    let language = Language::from_id(parsed.language.get_ref());
    if language.is_none() {
        problem(
            at(parsed.language.span()),
            format!("unknown language {:?}", parsed.language.get_ref()),
        );
    }
    if parsed.nodes.is_empty() {
        problem(None, "a path needs at least one [[nodes]] entry".into());
    }

    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, entry) in parsed.nodes.iter().enumerate() {
        let key = entry.get_ref().key.get_ref().as_str();
        if !is_slug(key) {
            problem(
                at(entry.get_ref().key.span()),
                format!("node key {key:?} must be lower-case words joined by dashes"),
            );
        }
        if index.insert(key, i).is_some() {
            problem(
                at(entry.get_ref().key.span()),
                format!("node key {key:?} is used twice"),
            );
        }
    }
    let lookup = |key: &str| index.get(key).copied();

    let mut nodes = Vec::new();
    let mut bodies = Vec::new();
    let mut edges = Vec::new();
    let mut lines = Vec::new();
    for (i, spanned) in parsed.nodes.iter().enumerate() {
        let entry = spanned.get_ref();
        let line = at(spanned.span());
        lines.push(line);
        let key = entry.key.get_ref().clone();
        let kind = match entry.kind.get_ref().as_str() {
            "lesson" => NodeKind::Lesson,
            "challenge" => NodeKind::Challenge,
            "checkpoint" => NodeKind::Checkpoint,
            other => {
                problem(
                    at(entry.kind.span()),
                    format!("unknown kind {other:?} (lesson, challenge or checkpoint)"),
                );
                NodeKind::Lesson
            }
        };
        let (title, body) = match kind {
            NodeKind::Lesson => {
                if entry.challenge.is_some() {
                    problem(line, format!("lesson {key:?} cannot name a challenge"));
                }
                let html = match &entry.lesson {
                    None => {
                        problem(
                            line,
                            format!("lesson {key:?} needs lesson = \"lessons/<file>.md\""),
                        );
                        String::new()
                    }
                    Some(rel) => match std::fs::read_to_string(root.join(rel.get_ref())) {
                        Ok(md) => markdown::render(&md),
                        Err(e) => {
                            problem(
                                at(rel.span()),
                                format!("lesson file {:?} cannot be read: {e}", rel.get_ref()),
                            );
                            String::new()
                        }
                    },
                };
                let title = entry.title.clone().unwrap_or_default();
                if title.trim().is_empty() {
                    problem(line, format!("lesson {key:?} needs a title"));
                }
                (title, NodeBody::Lesson { html })
            }
            NodeKind::Challenge | NodeKind::Checkpoint => {
                if entry.lesson.is_some() {
                    problem(
                        line,
                        format!(
                            "{key:?} is a {} and cannot have a lesson file",
                            entry.kind.get_ref()
                        ),
                    );
                }
                match &entry.challenge {
                    None => {
                        problem(
                            line,
                            format!("{key:?} needs challenge = \"<folder in challenges/>\""),
                        );
                        (
                            String::new(),
                            NodeBody::Lesson {
                                html: String::new(),
                            },
                        )
                    }
                    Some(name) => match challenges.get(name.get_ref().as_str()) {
                        Some(c) => (
                            entry.title.clone().unwrap_or_else(|| c.title.clone()),
                            NodeBody::Challenge {
                                slug: c.slug.clone(),
                            },
                        ),
                        None => {
                            problem(
                                at(name.span()),
                                format!("no challenge folder challenges/{}", name.get_ref()),
                            );
                            (
                                String::new(),
                                NodeBody::Lesson {
                                    html: String::new(),
                                },
                            )
                        }
                    },
                }
            }
        };
        let mut score = |s: &Option<Spanned<u8>>, default: u8, what: &str| match s {
            Some(v) if *v.get_ref() > 100 => {
                problem(at(v.span()), format!("{what} must be 0 to 100"));
                default
            }
            Some(v) => *v.get_ref(),
            None => default,
        };
        let pass_score = score(&entry.pass_score, 100, "pass_score");
        let remediate_below_score =
            score(&entry.remediate_below_score, 50, "remediate_below_score");
        let remediate_after_failures = match &entry.remediate_after_failures {
            Some(v) if *v.get_ref() == 0 => {
                problem(
                    at(v.span()),
                    "remediate_after_failures must be at least 1".into(),
                );
                3
            }
            Some(v) => *v.get_ref(),
            None => 3,
        };
        let remedial_for = entry.remedial_for.as_ref().and_then(|t| {
            let found = lookup(t.get_ref());
            if found.is_none() {
                problem(
                    at(t.span()),
                    format!("remedial_for names an unknown node {:?}", t.get_ref()),
                );
            }
            found
        });
        if remedial_for.is_some() && (!entry.requires.is_empty() || !entry.any_of.is_empty()) {
            problem(
                line,
                format!(
                    "remedial node {key:?} cannot have requires or any_of: it opens when the learner struggles"
                ),
            );
        }
        let guards = entry
            .guards
            .iter()
            .filter_map(|g| {
                let found = lookup(g.get_ref());
                if found.is_none() {
                    problem(
                        at(g.span()),
                        format!("guards names an unknown node {:?}", g.get_ref()),
                    );
                }
                found
            })
            .collect();
        let mut edge = |r: &Spanned<Requirement>, group: u32| {
            let (from, min_score) = r.get_ref().parts();
            match lookup(from) {
                None => problem(
                    at(r.span()),
                    format!("{key:?} requires an unknown node {from:?}"),
                ),
                Some(_) if min_score > 100 => {
                    problem(at(r.span()), "min_score must be 0 to 100".into())
                }
                Some(from) => edges.push((
                    Edge {
                        from,
                        to: i,
                        min_score,
                        group,
                    },
                    at(r.span()),
                )),
            }
        };
        let mut group = 0;
        for r in &entry.requires {
            edge(r, group);
            group += 1;
        }
        for alternatives in &entry.any_of {
            for r in alternatives {
                edge(r, group);
            }
            group += 1;
        }
        nodes.push(Node {
            key,
            kind,
            title,
            remedial_for,
            guards,
            pass_score,
            remediate_after_failures,
            remediate_below_score,
        });
        bodies.push(body);
    }
    if errors.len() > before {
        return None;
    }
    let graph = PathGraph {
        nodes,
        edges: edges.iter().map(|(e, _)| e.clone()).collect(),
    };
    if let Err(e) = graph.validate() {
        errors.push(ContentError {
            file: file.to_owned(),
            line: graph_error_line(&e, &graph, &lines),
            message: e.to_string(),
        });
        return None;
    }
    let hash = hash_of(&[
        RENDER_VERSION,
        &text,
        &serde_json::to_string(&bodies_key(&bodies)).unwrap_or_default(),
    ]);
    Some(PathContent {
        slug,
        title,
        summary: parsed.summary.trim().to_owned(),
        language: language?,
        order: parsed.order,
        graph,
        bodies,
        hash,
    })
}

/// Lesson HTML takes part in the path's hash: editing a lesson file re-imports the path.
fn bodies_key(bodies: &[NodeBody]) -> Vec<&str> {
    bodies
        .iter()
        .map(|b| match b {
            NodeBody::Lesson { html } => html.as_str(),
            NodeBody::Challenge { slug } => slug.as_str(),
        })
        .collect()
}

/// The line a graph error is about: that of the node it names first.
fn graph_error_line(
    e: &GraphError,
    graph: &PathGraph,
    node_lines: &[Option<usize>],
) -> Option<usize> {
    use GraphError as G;
    let key = match e {
        G::DuplicateKey { key }
        | G::NodeScoreOutOfRange { key, .. }
        | G::NoFailuresAllowed { key }
        | G::SelfLoop { key }
        | G::RemedialTargetOutOfRange { key, .. }
        | G::RemedialForItself { key }
        | G::RemedialForRemedial { key, .. }
        | G::GuardsOnNonCheckpoint { key } => Some(key),
        G::EdgeScoreOutOfRange { to, .. }
        | G::DuplicateEdge { to, .. }
        | G::EdgeIntoRemedial { to, .. }
        | G::EdgeFromRemedial { to, .. } => Some(to),
        G::GuardOutOfRange { checkpoint, .. }
        | G::GuardRemedial { checkpoint, .. }
        | G::DuplicateGuard { checkpoint, .. }
        | G::GuardSelf { checkpoint } => Some(checkpoint),
        G::Cycle { keys } => keys.first(),
        G::EdgeOutOfRange { .. } => None,
    }?;
    graph
        .index_of(key)
        .and_then(|i| node_lines.get(i).copied().flatten())
}
