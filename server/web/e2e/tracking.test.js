// Viewer tracking in a real browser: for every level × signal (none, DNT,
// GPC) play a video to its end and click its button, as a viewer at a
// public address (sent through the trusted proxy's X-Forwarded-For). The
// Go test TestTrackingBrowser (server/internal/daemon) prepares the videos
// and then checks what the database holds; run it rather than this file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { fx, artifacts, newContext } from "./harness.js";

for (const c of fx.cases) {
  test(`level ${c.level}, signal ${c.signal || "none"}: play to the end and click`, async () => {
    const headers = { "X-Forwarded-For": fx.ip };
    if (c.signal === "dnt") headers["DNT"] = "1";
    if (c.signal === "gpc") headers["Sec-GPC"] = "1";
    const context = await newContext({ extraHTTPHeaders: headers });
    const page = await context.newPage();
    const problems = [];
    page.on("pageerror", (e) => problems.push("page error: " + e.message));
    const beacons = [];
    page.on("request", (r) => {
      if (r.url().endsWith("/events")) beacons.push(r);
    });
    const resp = await page.goto(c.path, { referer: "https://news.example.com/post/1?utm=x" });
    assert.equal(resp.status(), 200);
    assert.equal(resp.headers()["set-cookie"], undefined, "viewers get no cookies");
    // The page says in one line what is recorded.
    const line = page.locator("p.tracking");
    assert.equal(await line.getAttribute("data-level"), c.level);
    assert.equal((await line.textContent()).trim(), c.notice);
    assert.equal(await page.locator("video#player[data-events]").count(), c.level === "off" ? 0 : 1);

    await page.evaluate(() => {
      const v = document.getElementById("player");
      v.muted = true;
      v.playbackRate = 2; // timeupdate still fires several times a second
      return v.play();
    });
    await page.waitForFunction(() => {
      const v = document.getElementById("player");
      if (v.error) throw new Error("media error " + v.error.code);
      return v.ended;
    }, null, { timeout: 30000, polling: 100 });
    const [popup] = await Promise.all([context.waitForEvent("page"), page.locator("a.cta-button").first().click()]);
    await popup.close();
    // Leaving the page sends what is still pending.
    await page.close({ runBeforeUnload: true });
    if (c.level === "off") {
      assert.equal(beacons.length, 0, "at level Off the page sends nothing");
    } else {
      const kinds = beacons.map((r) => JSON.parse(r.postData()).k);
      for (const k of ["start", "progress", "finish", "cta"]) assert.ok(kinds.includes(k), `a ${k} beacon was sent (${kinds})`);
    }
    assert.deepEqual(await context.cookies(), [], "no cookies at all");
    assert.deepEqual(problems, []);
    await context.close();
  });
}

test("the owner's analytics page draws its charts", async () => {
  const context = await newContext({ viewport: { width: 1280, height: 1000 } });
  await context.addCookies([{ name: "fc_session", value: fx.session, url: fx.base }]);
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
  const resp = await page.goto(fx.analytics);
  assert.equal(resp.status(), 200);
  // uPlot draws the retention curve and the views per day on canvases.
  await page.locator("#retention-chart canvas").waitFor();
  await page.locator("#days-chart canvas").waitFor();
  assert.equal((await page.locator("#views").textContent()).trim(), "1");
  assert.match(await page.locator(".attribution").textContent(), /IP Geolocation by DB-IP/);
  await page.screenshot({ path: join(artifacts, "analytics.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});
