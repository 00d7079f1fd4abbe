import { type Page } from "@playwright/test";
import { expect, nav, test, uniqueEmail, waitForHydration, waitForSignUpHydration } from "./support";

const PASSWORD = "correct horse 42";

/** Signs a fresh learner up; ends on their profile page. */
async function signUp(page: Page): Promise<void> {
  await page.goto("/signup");
  await waitForSignUpHydration(page);
  await page.locator("#field-email").fill(uniqueEmail());
  await page.locator("#field-display_name").fill("Ada Lovelace");
  await page.locator("#field-password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/profile$/);
}

/** CodeMirror's editable area (present once the editor has replaced the textarea). */
function editor(page: Page) {
  return page.locator(".code-editor .cm-content");
}

/** Replaces the editor's text by typing `text`, as a person would. */
async function typeProgram(page: Page, text: string): Promise<void> {
  await editor(page).click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.press("Delete");
  await page.keyboard.type(text);
}

function output(page: Page) {
  return page.locator("section.output-card");
}

test("a learner runs Python and JavaScript in the playground; C is unavailable; a syntax error is a compile error", async ({
  page,
}) => {
  await signUp(page);
  await nav(page).getByRole("link", { name: "Playground", exact: true }).click();
  await expect(page).toHaveURL(/\/playground$/);
  await expect(page.locator("main h1")).toHaveText("Playground");

  // CodeMirror replaced the server-rendered textarea, starting from Python's starter.
  await expect(editor(page)).toBeVisible({ timeout: 15_000 });
  await expect(page.locator("textarea#code")).toBeHidden();
  await expect(page.locator("#language")).toHaveValue("python");
  await expect(editor(page)).toContainText("Hello, {name}!");
  await expect(page.locator(".code-editor .cm-lineNumbers")).toBeVisible();

  // C is listed but cannot be picked, and the reason is on the page.
  const c = page.locator('#language option[value="c"]');
  await expect(c).toBeDisabled();
  await expect(c).toContainText("not available");
  await expect(page.getByTestId("unavailable-languages")).toContainText("C (gcc)");

  // Python: type a program (the editor closes brackets; typing over them keeps it right),
  // give it input, run it with Ctrl+Enter.
  await typeProgram(page, 'print("sum:", sum(range(int(input()) + 1)))');
  await expect(editor(page)).toHaveText('print("sum:", sum(range(int(input()) + 1)))');
  await expect(editor(page).locator(".tok-string").first()).toHaveText('"sum:"');
  await page.locator("#stdin").fill("10\n");
  await editor(page).click();
  await page.keyboard.press("Control+Enter");
  await expect(output(page).locator(".verdict")).toHaveText("Accepted");
  await expect(output(page).locator('pre[data-stream="stdout"]')).toHaveText("sum: 55");
  await expect(output(page).locator(".run-stats")).toContainText("ms");
  await expect(output(page).locator(".run-stats")).toContainText("MiB");

  // JavaScript: its own starter program, highlighted, run with the button.
  await page.locator("#language").selectOption("javascript");
  await expect(editor(page)).toContainText("console.log");
  await expect(editor(page).locator(".tok-keyword").first()).toHaveText("const");
  await page.getByRole("button", { name: /Run/ }).click();
  await expect(output(page).locator(".verdict")).toHaveText("Accepted");
  await expect(output(page).locator('pre[data-stream="stdout"]')).toHaveText("Hello, 10!");

  // Back to Python: the draft is still there. A syntax error is a compile error.
  await page.locator("#language").selectOption("python");
  await expect(editor(page)).toHaveText('print("sum:", sum(range(int(input()) + 1)))');
  await typeProgram(page, "total = = 1");
  await page.keyboard.press("Control+Enter");
  await expect(output(page).locator(".verdict")).toHaveText("Compile error");
  await expect(output(page).locator(".verdict")).toHaveClass(/\bbad\b/);
  await expect(output(page).locator('pre[data-stream="stderr"]')).toContainText("SyntaxError");
});

test("the playground asks a visitor to log in", async ({ page }) => {
  await page.goto("/playground");
  await waitForHydration(page);
  await expect(page.locator("main h1")).toHaveText("Log in to use the playground");
  await expect(page.locator("main").getByRole("link", { name: "Log in" })).toHaveAttribute("href", "/login");
});

test("the playground fits a phone screen, in the dark theme too", async ({ page }) => {
  await page.emulateMedia({ colorScheme: "dark" });
  await page.setViewportSize({ width: 375, height: 740 });
  await signUp(page);
  await page.goto("/playground");
  await waitForHydration(page);
  await expect(editor(page)).toBeVisible({ timeout: 15_000 });
  await page.getByRole("button", { name: /Run/ }).click();
  await expect(output(page).locator(".verdict")).toHaveText("Accepted");
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  expect(overflow, "the page scrolls sideways").toBeLessThanOrEqual(0);
  // The editor follows the theme: its background is the dark surface, not white.
  const background = await page
    .locator(".code-editor .cm-editor")
    .evaluate((el) => getComputedStyle(el).backgroundColor);
  expect(background).not.toBe("rgb(255, 255, 255)");
});
