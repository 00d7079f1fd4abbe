import { test as base, expect, type Locator, type Page } from "@playwright/test";

export { expect };

/** Console errors and uncaught page errors seen during one test. */
export interface BrowserErrors {
  /** Everything recorded so far, one line each. */
  readonly seen: string[];
  /**
   * Declares an error this test provokes on purpose (e.g. the browser's
   * "Failed to load resource … 401" line for a rejected log-in).
   */
  allow(pattern: RegExp): void;
}

/**
 * `test` with an automatic fixture that records every `console.error` and
 * every uncaught page error (a WASM panic shows up as one of the two), and
 * fails the test at its end if any was not explicitly allowed.
 */
export const test = base.extend<{ browserErrors: BrowserErrors }>({
  browserErrors: [
    async ({ page }, use) => {
      const seen: string[] = [];
      const allowed: RegExp[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") {
          const { url, lineNumber } = message.location();
          seen.push(`console.error: ${message.text()}${url ? ` (${url}:${lineNumber})` : ""}`);
        }
      });
      page.on("pageerror", (error) => {
        seen.push(`pageerror: ${error.message}`);
      });

      await use({ seen, allow: (pattern) => allowed.push(pattern) });

      const unexpected = seen.filter((line) => !allowed.some((pattern) => pattern.test(line)));
      expect(unexpected, "the browser reported console errors or page errors").toEqual([]);
    },
    { auto: true },
  ],
});

/** The browser's own console line for a response with an error status. */
export function failedResource(status: number): RegExp {
  return new RegExp(`Failed to load resource: the server responded with a status of ${status}\\b`);
}

/** A fresh learner address for one test. */
export function uniqueEmail(): string {
  return `e2e-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/** The main navigation in the site header. */
export function nav(page: Page): Locator {
  return page.locator("header.site-header nav.nav");
}

/**
 * Waits until the page is hydrated: the network goes quiet (the WASM bundle
 * is loaded), then the header's menu button reacts to a click, which only
 * happens once the WASM has attached its event handlers. The click is
 * dispatched (the button is hidden on wide screens) and undone afterwards.
 */
export async function waitForHydration(page: Page): Promise<void> {
  await page.waitForLoadState("networkidle");
  const menu = page.locator("header.site-header button.menu-toggle");
  await expect(async () => {
    if ((await menu.getAttribute("aria-expanded")) !== "true") {
      await menu.dispatchEvent("click");
    }
    await expect(menu).toHaveAttribute("aria-expanded", "true", { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await menu.dispatchEvent("click");
  await expect(menu).toHaveAttribute("aria-expanded", "false");
}

/**
 * On `/signup`: waits until the show-password toggle works (proof that the
 * WASM hydrated the form), then switches the password back to hidden.
 */
export async function waitForSignUpHydration(page: Page): Promise<void> {
  await page.waitForLoadState("networkidle");
  const toggle = page.getByTestId("show-password");
  const password = page.locator("#field-password");
  await expect(password).toHaveAttribute("type", "password");
  await expect(toggle).toHaveText("Show");
  await expect(async () => {
    if ((await password.getAttribute("type")) !== "text") {
      await toggle.click();
    }
    await expect(password).toHaveAttribute("type", "text", { timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await expect(toggle).toHaveText("Hide");
  await toggle.click();
  await expect(password).toHaveAttribute("type", "password");
  await expect(toggle).toHaveText("Show");
}
