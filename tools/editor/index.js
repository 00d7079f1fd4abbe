// EduScale's code editor: CodeMirror 6, bundled by esbuild into one classic script
// (public/editor/editor.js, build output) that the pages load on demand. It exposes
//
//   window.EduScaleEditor.mount(textarea, { language, doc, onChange, onRun, label })
//     -> { getDoc(), setDoc(text), setLanguage(id), focus(), destroy() }
//
// The server renders a plain <textarea> (usable before the page hydrates); mount puts
// the editor after it, hides it, and keeps its value in step with the editor, so a
// form around it still submits the program. destroy() shows the textarea again.

import { Compartment, EditorState, Prec } from "@codemirror/state";
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  StreamLanguage,
  bracketMatching,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { python } from "@codemirror/lang-python";
import { javascript } from "@codemirror/lang-javascript";
import { c, cpp, java } from "@codemirror/legacy-modes/mode/clike";
import { go } from "@codemirror/legacy-modes/mode/go";
import { rust } from "@codemirror/legacy-modes/mode/rust";
import { classHighlighter } from "@lezer/highlight";

// Language ids are eduscale_core::code::Language::id(). Python and JavaScript get full
// parsers; the compiled languages get the lighter stream modes (C-like highlighting).
const LANGUAGES = {
  python: () => [python(), indentUnit.of("    ")],
  javascript: () => [javascript(), indentUnit.of("  ")],
  c: () => [StreamLanguage.define(c), indentUnit.of("    ")],
  cpp: () => [StreamLanguage.define(cpp), indentUnit.of("    ")],
  java: () => [StreamLanguage.define(java), indentUnit.of("    ")],
  go: () => [StreamLanguage.define(go), indentUnit.of("\t")],
  rust: () => [StreamLanguage.define(rust), indentUnit.of("    ")],
};

function languageSupport(id) {
  const make = LANGUAGES[id];
  return make ? make() : [];
}

// Colours come from the page's CSS variables (style/main.css), so the editor follows
// the light and dark themes; tokens get `tok-*` classes styled there too.
const theme = EditorView.theme({
  "&": {
    color: "var(--text)",
    backgroundColor: "var(--surface)",
    border: "1px solid var(--border)",
    borderRadius: "var(--radius-sm)",
    fontSize: "0.92rem",
    maxHeight: "70vh",
    overflow: "hidden",
  },
  "&.cm-focused": { outline: "none", borderColor: "var(--accent)", boxShadow: "var(--ring)" },
  ".cm-scroller": { fontFamily: "var(--mono)", lineHeight: "1.6", overflow: "auto" },
  ".cm-content, .cm-gutter": { minHeight: "16rem" },
  ".cm-content": { caretColor: "var(--text)", padding: "0.5rem 0" },
  ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--text)", borderLeftWidth: "2px" },
  ".cm-gutters": {
    backgroundColor: "var(--surface-2)",
    color: "var(--muted)",
    border: "none",
    borderRight: "1px solid var(--border)",
  },
  ".cm-activeLine": { backgroundColor: "var(--editor-active-line)" },
  ".cm-activeLineGutter": { backgroundColor: "var(--editor-active-line)", color: "var(--text)" },
  "&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground, .cm-content ::selection":
    { backgroundColor: "var(--editor-selection)" },
  "&.cm-focused .cm-matchingBracket": {
    backgroundColor: "var(--editor-bracket)",
    outline: "1px solid var(--accent)",
  },
  "&.cm-focused .cm-nonmatchingBracket": { backgroundColor: "var(--danger-soft)" },
});

function mount(textarea, options) {
  const opts = options || {};
  const onChange = typeof opts.onChange === "function" ? opts.onChange : null;
  const onRun = typeof opts.onRun === "function" ? opts.onRun : null;
  const language = new Compartment();
  const label = opts.label || textarea.getAttribute("aria-label") || "Program";

  const state = EditorState.create({
    doc: opts.doc != null ? String(opts.doc) : textarea.value,
    extensions: [
      // Ctrl+Enter (Cmd+Enter on a Mac) runs; it comes before the default
      // keymap, which would insert a blank line.
      Prec.highest(
        keymap.of([
          {
            key: "Mod-Enter",
            run: () => {
              if (onRun) onRun();
              return true;
            },
          },
        ]),
      ),
      lineNumbers(),
      highlightActiveLineGutter(),
      highlightSpecialChars(),
      history(),
      drawSelection(),
      EditorState.allowMultipleSelections.of(true),
      indentOnInput(),
      bracketMatching(),
      closeBrackets(),
      highlightActiveLine(),
      syntaxHighlighting(classHighlighter),
      keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, indentWithTab]),
      language.of(languageSupport(opts.language)),
      theme,
      EditorView.contentAttributes.of({ "aria-label": label, spellcheck: "false" }),
      EditorView.updateListener.of((update) => {
        if (!update.docChanged) return;
        const text = update.state.doc.toString();
        textarea.value = text;
        if (onChange) onChange(text);
      }),
    ],
  });

  const host = document.createElement("div");
  host.className = "cm-host";
  textarea.insertAdjacentElement("afterend", host);
  const view = new EditorView({ state, parent: host });
  textarea.hidden = true;
  textarea.setAttribute("aria-hidden", "true");

  return {
    getDoc: () => view.state.doc.toString(),
    setDoc(text) {
      const doc = String(text);
      if (doc === view.state.doc.toString()) return;
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: doc } });
    },
    setLanguage(id) {
      view.dispatch({ effects: language.reconfigure(languageSupport(id)) });
    },
    focus: () => view.focus(),
    destroy() {
      view.destroy();
      host.remove();
      textarea.hidden = false;
      textarea.removeAttribute("aria-hidden");
    },
  };
}

window.EduScaleEditor = { mount, languages: Object.keys(LANGUAGES) };
