import { defineConfig, devices } from "@playwright/test";

/** Where the EduScale server under test answers (started by `./eduscale.sh test`). */
export const baseURL = process.env.BASE_URL || "http://127.0.0.1:3000";

/**
 * Playwright cannot download browsers here, so every run uses Debian's
 * Chromium (or CHROMIUM_PATH), headless and without any background traffic.
 */
const launchOptions = {
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
  ],
};

export default defineConfig({
  testDir: "./tests",
  // The test command starts while the server is still booting: wait for /healthz first.
  globalSetup: require.resolve("./global-setup"),
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 30_000,
  reporter: "list",
  use: {
    baseURL,
    trace: "off",
    launchOptions,
  },
  projects: [
    {
      name: "chromium",
      use: {
        ...devices["Desktop Chrome"],
        launchOptions,
      },
    },
  ],
});
