import { type Page } from "@playwright/test";
import { expect, nav, test, uniqueEmail, waitForHydration, waitForSignUpHydration } from "./support";

/** The instructor `./eduscale.sh test` creates before serving. */
const INSTRUCTOR_EMAIL = process.env.E2E_INSTRUCTOR_EMAIL ?? "";
const INSTRUCTOR_PASSWORD = process.env.E2E_INSTRUCTOR_PASSWORD ?? "";
const LEARNER_PASSWORD = "correct horse 42";

async function logIn(page: Page, email: string, password: string): Promise<void> {
  await page.goto("/login");
  await waitForHydration(page);
  await page.locator("#login-email").fill(email);
  await page.locator("#login-password").fill(password);
  await page.locator("main form").getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/profile$/);
}

async function signUp(page: Page, name: string): Promise<void> {
  await page.goto("/signup");
  await waitForSignUpHydration(page);
  await page.locator("#field-email").fill(uniqueEmail());
  await page.locator("#field-display_name").fill(name);
  await page.locator("#field-password").fill(LEARNER_PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expect(page).toHaveURL(/\/profile$/);
}

/** Runs the playground's starter program once and waits for its verdict. */
async function runOnce(page: Page): Promise<void> {
  const run = page.getByRole("button", { name: "Run ▶" });
  await expect(run).toBeEnabled({ timeout: 30_000 });
  await run.click();
  await expect(page.locator("section.output-card .verdict")).toHaveText("Accepted", { timeout: 30_000 });
}

test("an instructor opens the dashboard and sees the charts and the pulse change when a learner acts", async ({
  page,
  browser,
}) => {
  // Never skipped: without the account this test fails and says how to get one.
  if (!INSTRUCTOR_EMAIL || !INSTRUCTOR_PASSWORD) {
    throw new Error(
      "E2E_INSTRUCTOR_EMAIL and E2E_INSTRUCTOR_PASSWORD are unset: run the suite through " +
        "./eduscale.sh test, which creates that instructor, or create one with " +
        "`eduscale user create --role instructor` and set both.",
    );
  }
  // Up to a minute may pass before a new member's runs count for their cohort (see below).
  test.setTimeout(180_000);

  // The instructor creates a cohort.
  const cohort = `Insights ${Date.now()}`;
  await logIn(page, INSTRUCTOR_EMAIL, INSTRUCTOR_PASSWORD);
  await nav(page).getByRole("link", { name: "Teaching", exact: true }).click();
  await expect(page).toHaveURL(/\/teach$/);
  await waitForHydration(page);
  await page.locator("#field-name").fill(cohort);
  await page.getByRole("button", { name: "Create", exact: true }).click();
  const row = page.locator("tr").filter({ hasText: cohort });
  const code = (await row.locator("code.invite").textContent({ timeout: 15_000 }))?.trim() ?? "";
  expect(code).not.toBe("");

  // A learner, in a browser of their own, joins it; the dashboards are not for them.
  const learnerContext = await browser.newContext();
  const learner = await learnerContext.newPage();
  const learnerErrors: string[] = [];
  learner.on("console", (m) => m.type() === "error" && learnerErrors.push(m.text()));
  learner.on("pageerror", (e) => learnerErrors.push(e.message));
  await signUp(learner, "Insightful Learner");
  await expect(nav(learner).getByRole("link", { name: "Insights" })).toHaveCount(0);
  await nav(learner).getByRole("link", { name: "My cohorts" }).click();
  await expect(learner).toHaveURL(/\/cohorts$/);
  await waitForHydration(learner);
  await learner.locator("#field-code").fill(code);
  await learner.getByRole("button", { name: "Join", exact: true }).click();
  await expect(learner.locator("p.form-ok")).toContainText(cohort);
  await learner.goto("/insights");
  await expect(learner.getByTestId("instructors-only")).toBeVisible();

  // The instructor opens the cohort's dashboard from the navigation.
  await nav(page).getByRole("link", { name: "Insights", exact: true }).click();
  await expect(page).toHaveURL(/\/insights$/);
  await page.getByTestId("scopes").getByRole("link", { name: cohort }).click();
  await expect(page).toHaveURL(/\/insights\/[0-9a-f-]{36}$/);
  await expect(page.locator("main h1")).toHaveText(cohort);
  await expect(page.getByTestId("stat-learners")).toHaveText(/^\d+$/);

  // The charts are drawn, titled, with axes.
  for (const id of ["chart-velocity", "chart-engagement"]) {
    const chart = page.getByTestId(id);
    await expect(chart.locator("svg.chart-svg")).toBeVisible();
    await expect(chart.locator("svg.chart-svg > title")).not.toBeEmpty();
    await expect(chart.locator("svg.chart-svg .axis-y .tick").first()).toHaveText("0");
  }
  await expect(page.getByTestId("chart-velocity").locator("rect.chart-bar")).toHaveCount(12);
  await expect(page.getByTestId("chart-engagement").locator(".chart-line polyline")).toHaveCount(2);

  // Each table links its CSV.
  const csv = await page.request.get((await page.getByTestId("csv-velocity").getAttribute("href")) ?? "");
  expect(csv.status()).toBe(200);
  expect((await csv.text()).split(/\r?\n/)[0]).toBe("week,nodes_passed,learners_passing,active_learners");

  // The pulse is live; note its runs.
  await waitForHydration(page);
  const pulse = page.getByTestId("pulse");
  await expect(pulse.locator("[data-live]")).toHaveAttribute("data-live", "live", { timeout: 15_000 });
  const runs = page.getByTestId("pulse-runs");
  await expect(runs).toHaveText(/^\d+$/);
  const before = Number(await runs.textContent());
  await page.evaluate(() => ((window as unknown as { notReloaded: boolean }).notReloaded = true));

  // The learner runs code; the instructor's pulse counts it, with no reload.
  await learner.goto("/playground");
  await waitForHydration(learner);
  await runOnce(learner);
  // The server remembers which cohorts a learner is in for up to a minute,
  // and this learner's page views were counted before they joined: until
  // that memory expires their runs count only for the platform. So run again
  // every few seconds until the cohort's pulse moves.
  await expect(async () => {
    try {
      await expect
        .poll(async () => Number(await runs.textContent()), { timeout: 5_000 })
        .toBeGreaterThan(before);
    } catch (error) {
      await runOnce(learner);
      throw error;
    }
  }).toPass({ timeout: 120_000 });
  await expect(page.getByTestId("pulse-active")).not.toHaveText("0");
  expect(await page.evaluate(() => (window as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);

  expect(learnerErrors, "the learner's browser reported errors").toEqual([]);
  await learnerContext.close();
});
