import { type Browser, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { expect, test, uniqueEmail, waitForHydration, waitForSignUpHydration } from "./support";

const PASSWORD = "correct horse 42";
const REPO = path.resolve(__dirname, "..", "..");

async function signUp(page: Page, name: string): Promise<void> {
  await page.goto("/signup");
  await waitForSignUpHydration(page);
  await page.locator("#field-email").fill(uniqueEmail());
  await page.locator("#field-display_name").fill(name);
  await page.locator("#field-password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/profile$/);
}

/** A page in a context of its own (another person), with its console errors recorded. */
async function person(browser: Browser, errors: string[]): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console.error: ${message.text()}`);
  });
  page.on("pageerror", (error) => errors.push(`pageerror: ${error.message}`));
  return page;
}

/** From the arena's lobby, joins the battle with `code`; lands on its page. */
async function joinByCode(page: Page, code: string, battleUrl: RegExp): Promise<void> {
  await page.goto("/arena");
  await waitForHydration(page);
  await page.getByTestId("join-code").fill(code);
  await page.getByTestId("join-battle").click();
  await expect(page).toHaveURL(battleUrl);
}

/** Marks the page so that a reload (which would clear the mark) is noticed. */
async function markNoReload(page: Page): Promise<void> {
  await page.evaluate(() => ((window as unknown as { __noReload: boolean }).__noReload = true));
}

async function stillNotReloaded(page: Page): Promise<void> {
  expect(await page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload)).toBe(true);
}

/** Replaces the editor's text, as a paste (typing would auto-indent Python). */
async function replaceCode(page: Page, code: string): Promise<void> {
  const editor = page.locator(".code-editor .cm-content");
  await expect(editor).toBeVisible({ timeout: 15_000 });
  await editor.click();
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.press("Delete");
  await editor.evaluate((element, text) => {
    const data = new DataTransfer();
    data.setData("text/plain", text);
    element.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, code);
}

test("two learners duel by invite code; the first to solve wins, everyone sees it live, and ratings move", async ({
  page: ada,
  browser,
}) => {
  test.setTimeout(180_000);
  const suffix = Math.random().toString(36).slice(2, 7);
  const adaName = `Ada ${suffix}`;
  const linusName = `Linus ${suffix}`;
  const others: string[] = [];
  const linus = await person(browser, others);
  const grace = await person(browser, others);
  await signUp(ada, adaName);
  await signUp(linus, linusName);
  await signUp(grace, `Grace ${suffix}`);

  // Ada creates a private duel and reads its invite code.
  await ada.goto("/arena");
  await waitForHydration(ada);
  await ada.getByTestId("create-mode").selectOption("duel");
  await ada.getByTestId("create-battle").click();
  await expect(ada).toHaveURL(/\/arena\/\d+\?code=[A-Z0-9]{6}$/);
  const battleUrl = new RegExp(`${new URL(ada.url()).pathname}(\\?.*)?$`);
  const code = (await ada.getByTestId("battle-code").textContent())?.trim() ?? "";
  expect(code).toMatch(/^[A-Z0-9]{6}$/);

  // Linus joins by the code.
  await joinByCode(linus, code, battleUrl);

  // Both take a seat (Python) and get ready.
  for (const player of [ada, linus]) {
    await expect(player.getByTestId("battle-connection")).toHaveAttribute("data-conn", "live", { timeout: 15_000 });
    await expect(player.getByTestId("battle-phase")).toHaveText("lobby");
    await markNoReload(player);
  }
  for (const player of [ada, linus]) {
    await player.getByTestId("language").selectOption("python");
    await player.getByTestId("join").click();
    await expect(player.getByTestId("ready")).toBeVisible();
  }
  for (const player of [ada, linus]) {
    await expect(player.getByTestId("player")).toHaveCount(2);
  }
  await ada.getByTestId("ready").click();
  await expect(linus.locator(`[data-testid="player"][data-name="${adaName}"]`)).toHaveAttribute("data-ready", "true");
  await linus.getByTestId("ready").click();

  // After the countdown both see the same problem.
  for (const player of [ada, linus]) {
    await expect(player.getByTestId("battle-phase")).toHaveText("running", { timeout: 15_000 });
    await expect(player.getByTestId("problem")).toBeVisible({ timeout: 15_000 });
  }
  const slug = (await ada.getByTestId("problem-slug").getAttribute("data-slug")) ?? "";
  expect(slug).not.toBe("");
  await expect(linus.getByTestId("problem-slug")).toHaveAttribute("data-slug", slug);
  await expect(ada.getByTestId("clock")).toContainText(/\d+:\d\d left/);
  const solution = fs.readFileSync(path.join(REPO, "content", "challenges", slug, "solution.py"), "utf8");

  // Grace, who has the code too, watches: the standings and both players' code.
  await joinByCode(grace, code, battleUrl);
  await expect(grace.getByTestId("spectating")).toBeVisible({ timeout: 15_000 });
  await expect(grace.getByTestId("standing")).toHaveCount(2);
  await expect(grace.getByTestId("spectator-code")).toHaveCount(2);
  await expect(ada.getByTestId("spectators")).toHaveText("1 spectator");
  await markNoReload(grace);

  // A run of the examples is Ada's alone: the judgement shows on her page.
  await expect(ada.locator(".code-editor .cm-content")).toBeVisible({ timeout: 15_000 });
  await ada.getByTestId("run").click();
  await expect(ada.getByTestId("run-result")).toContainText("Example 1", { timeout: 30_000 });
  await expect(linus.getByTestId("run-result")).toHaveCount(0);

  // Ada writes the reference solution; Grace sees it arrive as it is typed.
  await replaceCode(ada, solution);
  const firstLine = solution.split("\n").find((line) => line.trim() !== "")!.trim();
  await expect(grace.locator(`[data-testid="spectator-code"][data-name="${adaName}"]`)).toContainText(firstLine);
  await ada.getByTestId("submit").click();
  await expect(ada.getByTestId("verdict")).toHaveAttribute("data-passed", "true", { timeout: 60_000 });

  // Everyone sees the same result, without a reload.
  for (const viewer of [ada, linus, grace]) {
    await expect(viewer.getByTestId("battle-phase")).toHaveText("finished", { timeout: 15_000 });
    await expect(viewer.getByTestId("result")).toHaveAttribute("data-winner", adaName);
    await stillNotReloaded(viewer);
  }
  await expect(ada.getByTestId("result")).toContainText("You won!");
  await expect(linus.getByTestId("result")).toContainText("You placed 2 of 2");
  await expect(grace.getByTestId("result")).toContainText(`${adaName} won`);
  await expect(grace.locator(`[data-testid="standing"][data-name="${adaName}"]`)).toHaveAttribute("data-rank", "1");

  // The replay scrubs from the empty lobby to the end.
  await linus.getByTestId("replay-link").click();
  await expect(linus).toHaveURL(/\/arena\/\d+\/replay$/);
  const timeline = linus.getByTestId("timeline");
  await expect(linus.getByTestId("battle-phase")).toContainText("finished");
  await timeline.fill("0");
  await expect(linus.getByTestId("battle-phase")).toHaveText("lobby");
  await expect(linus.getByTestId("standing")).toHaveCount(0);
  await timeline.fill((await timeline.getAttribute("max")) ?? "0");
  await expect(linus.getByTestId("battle-phase")).toContainText("finished");
  await expect(linus.locator(`[data-testid="standing"][data-name="${adaName}"]`)).toHaveAttribute("data-rank", "1");

  // Ratings move: before → after, on the page and on the leaderboard.
  const adaRating = ada.locator(`[data-testid="rating"][data-name="${adaName}"]`);
  await expect(adaRating).not.toHaveAttribute("data-after", "", { timeout: 15_000 });
  expect(Number(await adaRating.getAttribute("data-after"))).toBeGreaterThan(1000);

  await ada.goto("/leaderboard");
  const leaders = ada.getByTestId("leader");
  const adaRow = ada.locator(`[data-testid="leader"][data-name="${adaName}"]`);
  const linusRow = ada.locator(`[data-testid="leader"][data-name="${linusName}"]`);
  await expect(adaRow).toBeVisible();
  await expect(linusRow).toBeVisible();
  expect(Number(await adaRow.getAttribute("data-rating"))).toBeGreaterThan(1000);
  expect(Number(await linusRow.getAttribute("data-rating"))).toBeLessThan(1000);
  const names = await leaders.evaluateAll((rows) => rows.map((row) => row.getAttribute("data-name")));
  expect(names.indexOf(adaName)).toBeLessThan(names.indexOf(linusName));

  expect(others, "the other browsers reported console errors or page errors").toEqual([]);
});

test("quick match pairs two learners in a duel and seats both", async ({ page: ada, browser }) => {
  test.setTimeout(90_000);
  const suffix = Math.random().toString(36).slice(2, 7);
  const others: string[] = [];
  const linus = await person(browser, others);
  await signUp(ada, `Ada ${suffix}`);
  await signUp(linus, `Linus ${suffix}`);
  for (const player of [ada, linus]) {
    await player.goto("/arena");
    await waitForHydration(player);
    await player.getByTestId("language").selectOption("python");
  }
  await ada.getByTestId("find-match").click();
  await expect(ada.getByTestId("quick-match")).toHaveAttribute("data-waiting", "true");
  await linus.getByTestId("find-match").click();
  for (const player of [ada, linus]) {
    await expect(player).toHaveURL(/\/arena\/\d+$/, { timeout: 15_000 });
    await expect(player.getByTestId("battle-phase")).toHaveText("lobby");
    await expect(player.getByTestId("player")).toHaveCount(2);
    await expect(player.getByTestId("ready")).toBeVisible();
  }
  expect(new URL(ada.url()).pathname).toBe(new URL(linus.url()).pathname);
  expect(others, "the other browser reported console errors or page errors").toEqual([]);
});
