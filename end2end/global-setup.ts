import type { FullConfig } from "@playwright/test";

const POLL_EVERY_MS = 250;
// A first start on a machine compiles the guests and snapshots CPython (tens of seconds).
const GIVE_UP_AFTER_MS = 300_000;

/**
 * Waits until the server answers `GET /healthz` with 200: the test command is
 * started without waiting for the server, which may still be compiling or booting.
 */
export default async function globalSetup(config: FullConfig): Promise<void> {
  const baseURL =
    config.projects[0]?.use?.baseURL || process.env.BASE_URL || "http://127.0.0.1:3000";
  const url = new URL("/healthz", baseURL).toString();
  const deadline = Date.now() + GIVE_UP_AFTER_MS;
  let last = "no answer yet";

  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      last = cause?.code ?? (error instanceof Error ? error.message : String(error));
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_EVERY_MS));
  }

  throw new Error(
    `EduScale did not become healthy: ${url} did not answer 200 within ` +
      `${GIVE_UP_AFTER_MS / 1000} s (last result: ${last}). ` +
      `Is the server running, and does BASE_URL (${baseURL}) point at it?`,
  );
}
