//! The hydrate entry point: the browser runs this once the server's HTML has arrived.

/// Attaches the app to the server-rendered page.
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(eduscale_app::App);
}
