// The dashboard's "Upload a video" in a real browser: files made by ffmpeg
// (fx.upload.files, from TestShareBrowser) are picked with the file
// input; each must become a video whose share page plays to the end, or
// be refused with its message. One upload loses a request halfway and
// must resume. Registered from share.test.js so the run keeps one browser.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";

export function uploadTests(newPage, fx, artifacts) {
  async function dashboard() {
    const { context, page, problems } = await newPage({ viewport: { width: 1280, height: 900 } });
    await context.addCookies([{ name: "fc_session", value: fx.upload.session, url: fx.base }]);
    const resp = await page.goto("/videos");
    assert.equal(resp.status(), 200);
    return { context, page, problems };
  }

  // upload picks the file and waits until it is ready or refused.
  async function upload(page, path) {
    await page.setInputFiles("#upload-file", path);
    // Ready (its links showed earlier, once it played) or refused.
    await page.waitForFunction(() => document.getElementById("upload-state").textContent === "Ready." ||
      document.getElementById("upload-error").textContent !== "", null, { timeout: 120000, polling: 200 });
    const error = await page.locator("#upload-error").textContent();
    const share = await page.locator("#upload-share").getAttribute("href");
    return { error, share };
  }

  async function playsToEnd(context, url) {
    const page = await context.newPage();
    const resp = await page.goto(url);
    assert.equal(resp.status(), 200);
    await page.locator("video#player").waitFor();
    await page.evaluate(() => {
      const v = document.getElementById("player");
      v.muted = true;
      return v.play();
    });
    await page.waitForFunction(() => {
      const v = document.getElementById("player");
      if (v.error) throw new Error("media error " + v.error.code + ": " + v.error.message);
      return v.duration > 0 && (v.ended || v.currentTime >= v.duration - 0.3);
    }, null, { timeout: 60000, polling: 100 });
    const d = await page.evaluate(() => document.getElementById("player").duration);
    await page.close();
    return d;
  }

  test("uploaded files play to the end on their share page, or are refused with their message", async () => {
    const { context, page, problems } = await dashboard();
    for (const f of fx.upload.files) {
      const got = await upload(page, f.path);
      if (f.refused) {
        assert.match(got.error, new RegExp(f.refused), f.name + " is refused with its message");
        continue;
      }
      assert.equal(got.error, "", f.name + " was not refused");
      assert.equal(await page.locator("#upload-bar").getAttribute("value"), "100");
      const d = await playsToEnd(context, got.share);
      assert.ok(Math.abs(d - f.seconds) < 0.5, `${f.name} plays ${d} s, the file ${f.seconds} s`);
    }
    await page.screenshot({ path: join(artifacts, "dashboard-upload.png") });
    assert.deepEqual(problems.filter((p) => !/status of (409|413|400)/.test(p)), []);
    await context.close();
  });

  test("an upload that loses a request resumes where the server stopped and plays", async () => {
    const { context, page } = await dashboard();
    // Small parts, so the file takes several requests; the second is cut.
    await page.evaluate(() => document.getElementById("upload").setAttribute("data-part", String(512 * 1024)));
    let patches = 0, cut = 0;
    await page.route("**/uploads/*", (route) => {
      if (route.request().method() === "PATCH" && ++patches === 2) {
        cut++;
        return route.abort("connectionreset");
      }
      return route.continue();
    });
    const got = await upload(page, fx.upload.big.path);
    assert.equal(got.error, "");
    assert.equal(cut, 1, "one request was cut");
    assert.ok(patches > 3, `the file went in ${patches} requests`);
    const d = await playsToEnd(context, got.share);
    assert.ok(Math.abs(d - fx.upload.big.seconds) < 0.5, `plays ${d} s, the file ${fx.upload.big.seconds} s`);
    await context.close();
  });
}
