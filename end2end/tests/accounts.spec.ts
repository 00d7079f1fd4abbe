import {
  expect,
  failedResource,
  nav,
  test,
  uniqueEmail,
  waitForHydration,
  waitForSignUpHydration,
} from "./support";

const DISPLAY_NAME = "E2E Learner";
const PASSWORD = "correct horse 42";

test("a visitor sees the visitor navigation and the home page", async ({ page }) => {
  await page.goto("/");
  await waitForHydration(page);

  await expect(nav(page)).toHaveAttribute("data-role", "visitor");
  await expect(nav(page).getByRole("link", { name: "Log in" })).toHaveAttribute("href", "/login");
  await expect(nav(page).getByRole("link", { name: "Sign up" })).toHaveAttribute("href", "/signup");
  await expect(nav(page).locator("a.who")).toHaveCount(0);
  await expect(page.locator("h1").first()).toBeVisible();
});

test("sign-up validates instantly in the browser and the password toggle works (WASM hydrated)", async ({
  page,
}) => {
  await page.goto("/signup");
  await waitForSignUpHydration(page);

  // An e-mail without @: the message appears as soon as the field is left.
  const email = page.locator("#field-email");
  await email.fill("not-an-email");
  await email.press("Tab");
  const emailError = page.locator("#field-email-error");
  await expect(emailError).toContainText("e-mail address");
  await expect(emailError).toHaveText("An e-mail address needs an @, as in ada@example.com.");
  await expect(page.locator("div.field").filter({ has: email })).toHaveClass(/\binvalid\b/);

  // Fixing it clears the message.
  await email.fill(uniqueEmail());
  await expect(page.locator("div.field").filter({ has: email })).not.toHaveClass(/\binvalid\b/);

  // A short password.
  const password = page.locator("#field-password");
  await password.fill("abc");
  await password.press("Tab");
  await expect(page.locator("#field-password-error")).toHaveText("Use at least 10 characters.");
  await expect(page.locator("div.field").filter({ has: password })).toHaveClass(/\binvalid\b/);

  // Nothing was sent: still on the sign-up page.
  await expect(page).toHaveURL(/\/signup$/);
});

test("sign up, log out, log in, and see the learner navigation", async ({ page, browserErrors }) => {
  // The rejected log-in below answers 401, which Chromium reports on the console.
  browserErrors.allow(failedResource(401));
  const emailAddress = uniqueEmail();

  // Sign up.
  await page.goto("/signup");
  await waitForSignUpHydration(page);
  await page.locator("#field-email").fill(emailAddress);
  await page.locator("#field-display_name").fill(DISPLAY_NAME);
  await page.locator("#field-password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();

  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.locator("main h1")).toHaveText(DISPLAY_NAME);
  await expect(page.locator("section.profile span.role-badge")).toHaveText("learner");
  await expect(nav(page)).toHaveAttribute("data-role", "learner");
  await expect(nav(page).getByRole("link", { name: "Home" })).toBeVisible();
  await expect(nav(page).getByRole("link", { name: "My cohorts" })).toHaveAttribute("href", "/cohorts");
  await expect(nav(page).locator("a.who")).toContainText(DISPLAY_NAME);

  // Log out.
  await nav(page).getByRole("button", { name: "Log out" }).click();
  await expect(nav(page)).toHaveAttribute("data-role", "visitor");
  await expect(nav(page).getByRole("link", { name: "Log in" })).toBeVisible();

  // A wrong password is refused with the one generic message.
  await page.goto("/login");
  await waitForHydration(page);
  const form = page.locator("main form");
  await page.locator("#login-email").fill(emailAddress);
  await page.locator("#login-password").fill("wrong horse 42");
  await form.getByRole("button", { name: "Log in" }).click();
  await expect(page.locator("p.form-error")).toHaveText("E-mail or password is wrong.");
  await expect(page).toHaveURL(/\/login$/);
  await expect(nav(page)).toHaveAttribute("data-role", "visitor");

  // The right password signs in.
  await page.locator("#login-password").fill(PASSWORD);
  await form.getByRole("button", { name: "Log in" }).click();
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.locator("main h1")).toHaveText(DISPLAY_NAME);
  await expect(nav(page)).toHaveAttribute("data-role", "learner");
  await expect(nav(page).getByRole("link", { name: "My cohorts" })).toBeVisible();
  await expect(nav(page).locator("a.who")).toContainText(DISPLAY_NAME);
});

test("an unknown address is a 404 page", async ({ page, browserErrors }) => {
  // Chromium reports the 404 document on the console.
  browserErrors.allow(failedResource(404));
  const response = await page.goto("/no-such-page");
  expect(response, "page.goto returned no response").not.toBeNull();
  expect(response!.status()).toBe(404);
  await waitForHydration(page);
  await expect(page.locator("main h1")).toHaveText("There is nothing here");
  await expect(nav(page)).toHaveAttribute("data-role", "visitor");
});

test("the profile asks a visitor to log in", async ({ page }) => {
  await page.goto("/profile");
  await waitForHydration(page);
  await expect(page.locator("main h1")).toHaveText("Please log in");
  await expect(nav(page)).toHaveAttribute("data-role", "visitor");
  await expect(page.locator("main").getByRole("link", { name: "Log in" })).toHaveAttribute("href", "/login");
});
