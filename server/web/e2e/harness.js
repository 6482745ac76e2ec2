// What every browser test file here shares: the fixture the Go test
// passes in FRAMECAST_E2E, where screenshots go, and one Debian chromium
// (driven by playwright-core; never a downloaded browser) for the file.
import { before, after } from "node:test";
import { readFileSync, mkdirSync } from "node:fs";
import { chromium } from "playwright-core";

export const fx = JSON.parse(readFileSync(process.env.FRAMECAST_E2E, "utf8"));
export const artifacts = process.env.FRAMECAST_ARTIFACTS || "artifacts";

let browser;
before(async () => {
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.FRAMECAST_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
      "--autoplay-policy=no-user-gesture-required"],
  });
});
after(async () => {
  await browser?.close();
});

// newContext is a fresh browser context against the test server.
export function newContext(options = {}) {
  return browser.newContext({ baseURL: fx.base, ...options });
}

// newPage opens a page in a fresh context and collects its page errors
// and console errors (those ignore() accepts aside) in problems.
export async function newPage(options = {}, ignore = () => false) {
  const context = await newContext(options);
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && !ignore(m.text())) problems.push("console: " + m.text());
  });
  return { context, page, problems };
}
