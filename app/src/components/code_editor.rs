//! The code editor every page with a program uses (the playground, learning paths,
//! the arena): CodeMirror 6 over a server-rendered `<textarea>`.
//!
//! The server renders the textarea with the program in it, so the page works before
//! (and without) the WASM: typing, Ctrl+Enter to run. Once hydrated, the component
//! loads `/editor/editor.js` (CodeMirror bundled from npm by `tools/`, once per page)
//! and mounts the editor over the textarea: highlighting, auto-indent, bracket
//! matching, line numbers. Either way `code` holds the program as typed, and setting
//! `code` from outside (a starter program) replaces the editor's text.

use eduscale_core::code::Language;
use leptos::html::Textarea;
use leptos::prelude::*;

/// Where the bundled editor is served (`public/editor/editor.js`, copied into the site).
pub const EDITOR_SCRIPT: &str = "/editor/editor.js";

/// A code editor bound to `code`.
#[component]
pub fn CodeEditor(
    /// The program; follows every keystroke, and the editor follows it when set from outside.
    code: RwSignal<String>,
    /// Highlighting and indentation follow it.
    #[prop(into)]
    language: Signal<Language>,
    /// Called on Ctrl+Enter (Cmd+Enter on a Mac).
    #[prop(optional, into)]
    on_run: Option<Callback<()>>,
    /// The textarea's id, for a `<label for>`.
    #[prop(default = "code")]
    id: &'static str,
    /// The accessible name of the editor.
    #[prop(default = "Program")]
    label: &'static str,
) -> impl IntoView {
    let textarea = NodeRef::<Textarea>::new();
    #[cfg(feature = "hydrate")]
    client::attach(textarea, code, language, on_run, label);
    #[cfg(not(feature = "hydrate"))]
    let _ = language;
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        if (ev.ctrl_key() || ev.meta_key()) && ev.key() == "Enter" {
            ev.prevent_default();
            if let Some(run) = on_run {
                run.run(());
            }
        }
    };
    view! {
        <div class="code-editor">
            <textarea
                node_ref=textarea
                id=id
                class="code-source"
                aria-label=label
                rows="16"
                spellcheck="false"
                autocomplete="off"
                autocapitalize="off"
                prop:value=move || code.get()
                on:input=move |ev| code.set(event_target_value(&ev))
                on:keydown=keydown
            >
                {code.get_untracked()}
            </textarea>
        </div>
    }
}

/// The browser side: loading the bundle and driving the CodeMirror view.
#[cfg(feature = "hydrate")]
mod client {
    use super::EDITOR_SCRIPT;
    use eduscale_core::code::Language;
    use leptos::html::Textarea;
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        /// What `EduScaleEditor.mount` returns (see `tools/editor/index.js`).
        type Handle;

        #[wasm_bindgen(catch, js_namespace = EduScaleEditor, js_name = mount)]
        fn mount(element: &web_sys::HtmlElement, options: &JsValue) -> Result<Handle, JsValue>;

        #[wasm_bindgen(method, js_name = getDoc)]
        fn get_doc(this: &Handle) -> String;

        #[wasm_bindgen(method, js_name = setDoc)]
        fn set_doc(this: &Handle, doc: &str);

        #[wasm_bindgen(method, js_name = setLanguage)]
        fn set_language(this: &Handle, language: &str);

        #[wasm_bindgen(method)]
        fn destroy(this: &Handle);
    }

    /// A mounted editor and the callbacks it holds (alive as long as it is).
    struct Mounted {
        handle: Handle,
        _on_change: Closure<dyn FnMut(String)>,
        _on_run: Closure<dyn FnMut()>,
    }

    /// Mounts the editor once the textarea is in the page and the bundle is loaded,
    /// then keeps it in step with `code` and `language`; destroys it on cleanup.
    pub fn attach(
        textarea: NodeRef<Textarea>,
        code: RwSignal<String>,
        language: Signal<Language>,
        on_run: Option<Callback<()>>,
        label: &'static str,
    ) {
        let mounted = StoredValue::new_local(None::<Mounted>);
        Effect::new(move |_| {
            let Some(element) = textarea.get() else {
                return;
            };
            if mounted.with_value(Option::is_some) {
                return;
            }
            when_loaded(move || {
                if mounted.with_value(Option::is_some) {
                    return;
                }
                match mount_over(&element, code, language, on_run, label) {
                    Ok(editor) => mounted.set_value(Some(editor)),
                    // The textarea stays: the program can still be typed and run.
                    Err(e) => leptos::logging::warn!("the code editor did not load: {e:?}"),
                }
            });
        });
        Effect::new(move |_| {
            let language = language.get();
            mounted.with_value(|m| {
                if let Some(m) = m {
                    m.handle.set_language(language.id());
                }
            });
        });
        Effect::new(move |_| {
            let text = code.get();
            mounted.with_value(|m| {
                if let Some(m) = m
                    && m.handle.get_doc() != text
                {
                    m.handle.set_doc(&text);
                }
            });
        });
        on_cleanup(move || {
            mounted.update_value(|m| {
                if let Some(m) = m.take() {
                    m.handle.destroy();
                }
            });
        });
    }

    fn mount_over(
        element: &web_sys::HtmlTextAreaElement,
        code: RwSignal<String>,
        language: Signal<Language>,
        on_run: Option<Callback<()>>,
        label: &'static str,
    ) -> Result<Mounted, JsValue> {
        let on_change = Closure::<dyn FnMut(String)>::new(move |text: String| code.set(text));
        let run = Closure::<dyn FnMut()>::new(move || {
            if let Some(run) = on_run {
                run.run(());
            }
        });
        let options = js_sys::Object::new();
        let set = |key: &str, value: &JsValue| js_sys::Reflect::set(&options, &key.into(), value);
        set("language", &language.get_untracked().id().into())?;
        set("doc", &code.get_untracked().into())?;
        set("label", &label.into())?;
        set("onChange", on_change.as_ref())?;
        set("onRun", run.as_ref())?;
        let handle = mount(element, &options)?;
        Ok(Mounted {
            handle,
            _on_change: on_change,
            _on_run: run,
        })
    }

    /// Runs `then` once `window.EduScaleEditor` exists, adding the bundle's script
    /// to the page first if no editor has yet.
    fn when_loaded(then: impl FnOnce() + 'static) {
        let Some(window) = web_sys::window() else {
            return;
        };
        if js_sys::Reflect::has(&window, &"EduScaleEditor".into()).unwrap_or(false) {
            then();
            return;
        }
        let Some(document) = window.document() else {
            return;
        };
        let script = match document.query_selector("script[data-eduscale-editor]") {
            Ok(Some(existing)) => existing,
            _ => {
                let Ok(script) = document.create_element("script") else {
                    return;
                };
                let _ = script.set_attribute("src", EDITOR_SCRIPT);
                let _ = script.set_attribute("data-eduscale-editor", "");
                if let Some(head) = document.head() {
                    let _ = head.append_child(&script);
                }
                script
            }
        };
        let loaded = Closure::once_into_js(then);
        let _ = script.add_event_listener_with_callback("load", loaded.unchecked_ref());
    }
}
