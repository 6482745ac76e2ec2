// An imported video while it is still being processed, in a real browser
// (Debian's chromium driven by playwright-core). The Go test
// TestImportPlaysWhileProcessing (server/internal/daemon) uploads a file,
// holds its processing after the first segments are published and passes
// the video in FRAMECAST_E2E (a JSON file); run it rather than this file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fx, artifacts, newPage as openPage } from "./harness.js";

function newPage(options = {}) {
  return openPage({ viewport: { width: 1280, height: 900 }, ...options });
}

test("a half-processed import's share page shows the player and plays from the start", async () => {
  const { context, page, problems } = await newPage();
  const resp = await page.goto(fx.share);
  assert.equal(resp.status(), 200);
  assert.equal(await page.locator("h1").textContent(), fx.title);
  const video = page.locator("video#player");
  await video.waitFor();
  assert.ok(await video.isVisible(), "the player is shown");
  await page.evaluate(() => {
    const v = document.getElementById("player");
    v.addEventListener("playing", () => { window.startedAt = v.currentTime; }, { once: true });
    v.muted = true;
    return v.play();
  });
  await page.waitForFunction(() => {
    const v = document.getElementById("player");
    if (v.error) throw new Error("media error " + v.error.code + ": " + v.error.message);
    return v.currentTime > 2.5;
  }, null, { timeout: 30000, polling: 100 });
  const startedAt = await page.evaluate(() => window.startedAt);
  assert.ok(startedAt !== undefined && startedAt < 0.5, `playback started at ${startedAt} s, not at the start`);
  assert.ok(await page.evaluate(() => !!window.framecastHls), "Chromium plays through hls.js");
  await page.screenshot({ path: join(artifacts, "import-half-processed.png") });
  assert.deepEqual(problems, []);
  await context.close();
});

test("the library shows the upload's progress on its card, and a new upload without a reload", async () => {
  const { context, page, problems } = await newPage();
  await context.addCookies([{ name: "fc_session", value: fx.session, url: fx.base }]);
  const resp = await page.goto("/videos");
  assert.equal(resp.status(), 200);
  const card = page.locator("#library li.card", { hasText: fx.title });
  assert.match(await card.locator("[data-upload]").textContent(), /^plays already · processing… \d+ %$/);
  assert.equal(await card.getByRole("button", { name: "Copy link" }).count(), 1, "a playable upload's link can be copied");

  await page.evaluate(() => { window.sameDocument = true; });
  await page.setInputFiles("#upload-file", fx.next.path);
  // The upload box offers the links as soon as the video plays, with the
  // rest still processing (or already done).
  await page.locator("#upload-done").waitFor({ timeout: 60000 });
  assert.match(await page.locator("#upload-state").textContent(), /^(Plays already; processing… \d+ %|Ready\.)$/);
  assert.match(await page.locator("#upload-share").getAttribute("href"), /\/v\/[a-z0-9]+$/);
  const next = page.locator("#library li.card", { hasText: fx.next.title });
  await next.waitFor({ timeout: 15000 });
  // Processed meanwhile (the other job worker): the card follows, up to
  // its link, still without a reload.
  await next.getByRole("button", { name: "Copy link" }).waitFor({ timeout: 60000 });
  assert.equal(await page.evaluate(() => window.sameDocument), true, "the page was not reloaded");
  await page.screenshot({ path: join(artifacts, "library-uploads.png") });
  assert.deepEqual(problems, []);
  await context.close();
});
