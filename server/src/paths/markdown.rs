//! Markdown to HTML for lessons and statements, with highlighted code blocks.
//!
//! Rendered once, at import, and stored: pages send the HTML as is. Raw HTML in
//! the Markdown is shown as text, never passed through, so content authors
//! cannot put script into a learner's page. Code is highlighted by syntect into
//! `hl-` classes (the stylesheet colours them, for light and dark themes alike).

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd, html};
use std::sync::OnceLock;
use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// `markdown` as HTML: tables, strikethrough, fenced code highlighted by its tag.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut events = Vec::new();
    let mut code: Option<(String, String)> = None;
    for event in Parser::new_ext(markdown, options) {
        match (event, code.as_mut()) {
            (Event::Start(Tag::CodeBlock(kind)), _) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(tag) => {
                        tag.split_whitespace().next().unwrap_or("").to_owned()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((lang, String::new()));
            }
            (Event::Text(text), Some((_, body))) => body.push_str(&text),
            (Event::End(TagEnd::CodeBlock), Some((lang, body))) => {
                events.push(Event::Html(highlight(lang, body).into()));
                code = None;
            }
            (Event::Html(raw) | Event::InlineHtml(raw), _) => events.push(Event::Text(raw)),
            (event, _) => events.push(event),
        }
    }
    let mut out = String::with_capacity(markdown.len() * 2);
    html::push_html(&mut out, events.into_iter());
    out
}

/// One code block as `<pre><code>` with highlight classes; plain but escaped
/// when the language is unknown.
fn highlight(lang: &str, code: &str) -> String {
    let set = syntaxes();
    let token = match lang {
        "javascript" | "js" => "js",
        "python" | "py" => "py",
        other => other,
    };
    let syntax = set
        .find_syntax_by_token(token)
        .unwrap_or_else(|| set.find_syntax_plain_text());
    let mut generator = ClassedHTMLGenerator::new_with_class_style(
        syntax,
        set,
        ClassStyle::SpacedPrefixed { prefix: "hl-" },
    );
    for line in LinesWithEndings::from(code) {
        // Only an internal regex failure can end up here; the block then stays plain.
        if generator
            .parse_html_for_line_which_includes_newline(line)
            .is_err()
        {
            return format!("<pre class=\"code\"><code>{}</code></pre>", escape(code));
        }
    }
    let class = if lang.is_empty() {
        String::new()
    } else {
        format!(" language-{}", escape(lang))
    };
    format!(
        "<pre class=\"code{class}\"><code>{}</code></pre>",
        generator.finalize()
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_code_is_highlighted() {
        let html = render("Text\n\n```python\ndef f(x):\n    return x  # why\n```\n");
        assert!(html.contains("<p>Text</p>"), "{html}");
        assert!(html.contains("hl-keyword"), "{html}");
        assert!(html.contains("hl-comment"), "{html}");
        assert!(html.contains("language-python"), "{html}");
    }

    #[test]
    fn raw_html_is_shown_not_run() {
        let html = render("Hi <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn unknown_languages_stay_plain_and_escaped() {
        let html = render("```brainfun\n<>&\n```\n");
        assert!(html.contains("&lt;&gt;&amp;"), "{html}");
    }
}
