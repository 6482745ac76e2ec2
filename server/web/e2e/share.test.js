// Share pages in a real browser: Debian's chromium driven by
// playwright-core. The Go test TestShareBrowser (server/internal/daemon) starts
// the server, prepares the videos and passes them in FRAMECAST_E2E (a JSON
// file); run it rather than this file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fx, artifacts, newPage as openPage } from "./harness.js";
import { uploadTests } from "./upload.js";

// Pages answered 401/404/410 on purpose log their own status.
function newPage(options = {}) {
  return openPage(options, (text) => /status of (401|404|410)/.test(text));
}

// plays starts the video in frame (a page or an iframe) and waits until
// its clock has moved on, with no media error.
async function plays(frame, seconds = 1.5) {
  const video = frame.locator("video#player");
  await video.waitFor();
  await frame.evaluate(() => {
    const v = document.getElementById("player");
    v.muted = true;
    return v.play();
  });
  await frame.waitForFunction((s) => {
    const v = document.getElementById("player");
    if (v.error) throw new Error("media error " + v.error.code + ": " + v.error.message);
    return v.currentTime > s;
  }, seconds, { timeout: 30000, polling: 100 });
  const err = await frame.evaluate(() => document.getElementById("player").error);
  assert.equal(err, null);
}

async function meta(page, property) {
  return page.evaluate((p) => {
    const el = document.querySelector(`meta[property="${p}"], meta[name="${p}"]`);
    return el ? el.getAttribute("content") : null;
  }, property);
}

test("a public share page plays, shows its buttons and actions, and has Open Graph tags", async () => {
  const { context, page, problems } = await newPage({ viewport: { width: 1280, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: fx.base });
  const resp = await page.goto(fx.public.path);
  assert.equal(resp.status(), 200);
  assert.equal(resp.headers()["set-cookie"], undefined, "viewers get no cookies");
  assert.equal(await page.locator("h1").textContent(), fx.public.title);
  assert.equal(await meta(page, "og:title"), fx.public.title);
  assert.match(await meta(page, "og:image"), /\/thumbnail\.jpg$/);
  assert.equal(await meta(page, "twitter:card"), "player");

  await plays(page);
  assert.ok(await page.evaluate(() => !!window.framecastHls), "Chromium plays through hls.js");

  // The call-to-action buttons are there and open their link.
  const buttons = page.locator("a.cta-button");
  assert.equal(await buttons.count(), fx.public.buttons.length);
  for (let i = 0; i < fx.public.buttons.length; i++) {
    await assert.doesNotReject(buttons.nth(i).waitFor({ state: "visible" }));
    assert.equal(await buttons.nth(i).textContent(), fx.public.buttons[i].label);
  }
  const [popup] = await Promise.all([context.waitForEvent("page"), buttons.first().click()]);
  await popup.waitForLoadState();
  assert.equal(popup.url(), fx.public.buttons[0].url);
  await popup.close();

  // Copy link puts the share URL on the clipboard.
  await page.getByRole("button", { name: "Copy link" }).click();
  await page.locator(".copied").filter({ hasText: "Copied." }).waitFor();
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), fx.base + fx.public.path);
  for (const name of ["E-mail", "LinkedIn", "X", "Facebook", "Download MP4"]) {
    assert.ok(await page.getByRole("link", { name, exact: true }).isVisible(), name + " is visible");
  }
  await page.screenshot({ path: join(artifacts, "share-page.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test("the share page fits a phone", async () => {
  const { context, page } = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await page.goto(fx.public.path);
  const [scroll, width] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(scroll <= width, `no sideways scrolling (${scroll} > ${width})`);
  const box = await page.locator("video#player").boundingBox();
  assert.ok(box.width >= 350, "the player spans the screen");
  await page.screenshot({ path: join(artifacts, "share-page-phone.png") });
  await context.close();
});

test("the password page blocks, then admits", async () => {
  const { context, page, problems } = await newPage();
  const resp = await page.goto(fx.password.path);
  assert.equal(resp.status(), 401);
  assert.equal(await page.locator("video").count(), 0);
  assert.ok(!(await page.content()).includes(fx.password.title), "the title stays hidden");
  assert.equal(await meta(page, "og:title"), null);
  assert.equal(await meta(page, "og:image"), null);

  await page.fill("input[name=password]", "not it");
  await page.click("button[type=submit]");
  await page.locator("#problem").waitFor();
  assert.equal(await page.locator("video").count(), 0);

  await page.fill("input[name=password]", fx.password.password);
  await page.click("button[type=submit]");
  await page.locator("h1", { hasText: fx.password.title }).waitFor();
  assert.equal(await meta(page, "og:title"), null, "no Open Graph tags for a protected video");
  await plays(page);
  assert.deepEqual(problems, []);
  await context.close();
});

test("a members-only video shows nothing to an anonymous viewer", async () => {
  const { context, page } = await newPage();
  const resp = await page.goto(fx.members.path);
  assert.equal(resp.status(), 401);
  assert.ok(!(await page.content()).includes(fx.members.title));
  assert.equal(await meta(page, "og:title"), null);
  assert.ok(await page.getByRole("link", { name: "Sign in" }).isVisible());
  await context.close();
});

test("an expired link answers 410 and a rotated slug 404", async () => {
  const { context, page } = await newPage();
  let resp = await page.goto(fx.expired.path);
  assert.equal(resp.status(), 410);
  assert.ok(!(await page.content()).includes(fx.expired.title));
  resp = await page.goto(fx.rotated.oldPath);
  assert.equal(resp.status(), 404);
  assert.ok(!(await page.content()).includes(fx.rotated.title));
  resp = await page.goto(fx.rotated.path);
  assert.equal(resp.status(), 200);
  await context.close();
});

test("the embed page renders and plays inside another site's iframe", async () => {
  const { context, page, problems } = await newPage();
  // A page of another site frames the embed.
  await page.goto(fx.framer);
  const frame = page.frameLocator("#f");
  await frame.locator("video#player").waitFor();
  const f = page.frames().find((x) => x.url().includes(fx.public.embed));
  assert.ok(f, "the embed frame loaded");
  await plays(f);
  assert.equal(await frame.locator("a.embed-title").textContent(), fx.public.title);
  assert.deepEqual(problems, []);
  await context.close();
});

test("a trimmed video plays across its join to the end", async () => {
  const { context, page, problems } = await newPage();
  await page.goto(fx.trimmed.path);
  await plays(page, 0.5);
  const d = await page.evaluate(() => document.getElementById("player").duration);
  // Players estimate the length from the playlist and the media; ≈ 3.4 s.
  assert.ok(d > 3.2 && d < 3.8, `plays ${d} s, trimmed to 3.4`);
  // Past the re-encoded first part, on to the end, without a media error.
  await page.waitForFunction(() => {
    const v = document.getElementById("player");
    if (v.error) throw new Error("media error " + v.error.code + ": " + v.error.message);
    return v.ended || v.currentTime >= v.duration - 0.3;
  }, null, { timeout: 30000, polling: 100 });
  assert.deepEqual(problems, []);
  await context.close();
});

uploadTests(newPage, fx, artifacts);
