import { type Page } from "@playwright/test";
import { expect, nav, test, uniqueEmail, waitForHydration, waitForSignUpHydration } from "./support";

const PASSWORD = "correct horse 42";

async function signUp(page: Page): Promise<void> {
  await page.goto("/signup");
  await waitForSignUpHydration(page);
  await page.locator("#field-email").fill(uniqueEmail());
  await page.locator("#field-display_name").fill("Grace Hopper");
  await page.locator("#field-password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/profile$/);
}

function graphNode(page: Page, key: string) {
  return page.locator(`[data-testid="path-graph"] g.node[data-key="${key}"]`);
}

test("a new learner opens a path, solves the first challenge, and sees the next nodes unlock without a reload", async ({
  page,
  context,
}) => {
  await signUp(page);
  await nav(page).getByRole("link", { name: "Paths", exact: true }).click();
  await expect(page).toHaveURL(/\/paths$/);
  await expect(page.locator(".path-card")).toHaveCount(3);
  await page.getByRole("link", { name: "Python foundations" }).click();
  await expect(page).toHaveURL(/\/paths\/python-foundations$/);

  // Where to start, at a glance: the first lesson is open and recommended, the rest locked.
  await expect(graphNode(page, "welcome")).toHaveAttribute("data-status", "open");
  await expect(graphNode(page, "hello")).toHaveAttribute("data-status", "locked");
  await expect(page.getByTestId("next-up")).toContainText("Welcome to Python");
  await waitForHydration(page);
  await expect(page.locator("[data-live]")).toHaveAttribute("data-live", "live", { timeout: 15_000 });

  // Hovering a locked node says what it needs.
  await graphNode(page, "hello").hover();
  await expect(page.getByTestId("node-tip")).toContainText("Welcome to Python");

  // The learner works in a second tab; the graph tab is never reloaded.
  const work = await context.newPage();
  await work.goto("/paths/python-foundations/welcome");
  await waitForHydration(work);
  await work.getByTestId("complete-lesson").click();
  await expect(work.getByTestId("unlocked")).toContainText("Hello, name!");
  await expect(graphNode(page, "hello")).toHaveAttribute("data-status", "open");
  await expect(graphNode(page, "welcome")).toHaveAttribute("data-status", "passed");

  // The first challenge: a wrong answer first (hidden tests say no), then the right one.
  await work.getByTestId("unlocked").getByRole("link", { name: "Hello, name!" }).click();
  await expect(work).toHaveURL(/\/paths\/python-foundations\/hello$/);
  const editor = work.locator(".code-editor .cm-content");
  await expect(editor).toBeVisible({ timeout: 15_000 });
  await editor.click();
  await work.keyboard.press("ControlOrMeta+a");
  await work.keyboard.press("Delete");
  await work.keyboard.type('print("Hello, Ada!")');
  await work.getByTestId("submit").click();
  await expect(work.getByTestId("outcome")).toHaveAttribute("data-passed", "false", { timeout: 30_000 });
  await expect(graphNode(page, "minutes")).toHaveAttribute("data-status", "locked");

  await editor.click();
  await work.keyboard.press("ControlOrMeta+a");
  await work.keyboard.press("Delete");
  await work.keyboard.type("name = input().strip()\nprint(f\"Hello, {name}!\")");
  await work.getByTestId("submit").click();
  await expect(work.getByTestId("outcome")).toHaveAttribute("data-passed", "true", { timeout: 30_000 });
  await expect(work.getByTestId("unlocked")).toContainText("Minutes to hours");

  // The graph tab lit up the nodes the pass unlocked, pushed over the socket.
  await expect(graphNode(page, "hello")).toHaveAttribute("data-status", "passed");
  for (const key of ["minutes", "average", "initials", "decisions-loops"]) {
    await expect(graphNode(page, key)).toHaveAttribute("data-status", "open");
    await expect(graphNode(page, key)).toHaveClass(/just-unlocked/);
  }
  await expect(graphNode(page, "grades")).toHaveAttribute("data-status", "locked");
});

test("a learner cannot read another learner's progress", async ({ page, browserErrors }) => {
  browserErrors.allow(/403/);
  await signUp(page);
  await page.goto("/paths?learner=00000000-0000-4000-8000-000000000000");
  await expect(page.locator("main")).toContainText("Your role cannot do this.");
});
