// Debian's chromium through playwright-core, the one way tests/browser starts a browser:
// headless, no sandbox (CI containers run as root), no GPU, no background traffic, and a fresh
// profile folder each time. playwright-core comes from where scripts/npm-test-packages put it
// (QDGEN_NPM_BROWSER, default build/npm/browser); it never downloads a browser.
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const CHROMIUM = process.env.QDGEN_CHROMIUM || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const repository = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

function playwright() {
  const folder = process.env.QDGEN_NPM_BROWSER || path.join(repository, "build/npm/browser");
  try {
    return createRequire(path.join(folder, "package.json"))("playwright-core");
  } catch (error) {
    throw new Error(`playwright-core is not in ${folder}: run scripts/npm-test-packages (${error.message})`);
  }
}

// A browser context on a fresh profile under `parent` (removed by close()).
export async function launchChromium(parent = os.tmpdir(), viewport = { width: 1400, height: 1000 }) {
  const profile = fs.mkdtempSync(path.join(parent, "chromium-profile-"));
  const context = await playwright().chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}
