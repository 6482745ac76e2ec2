// Plays the share page's HLS playlist: natively on Apple's browsers (and
// wherever Media Source Extensions are missing, as on iPhones), else
// through hls.js. Chromium answers canPlayType for HLS too nowadays, but
// hls.js behaves the same in every engine (gap jumping, error recovery).
(function () {
  "use strict";
  var video = document.getElementById("player");
  if (!video) return;
  var src = video.getAttribute("data-src");
  var native = video.canPlayType("application/vnd.apple.mpegurl") !== "";
  var apple = /Apple/.test(navigator.vendor || "");
  var mse = !!(window.Hls && window.Hls.isSupported());
  if (native && (apple || !mse)) {
    video.src = src;
  } else if (mse) {
    var hls = new window.Hls();
    hls.on(window.Hls.Events.ERROR, function (_, data) {
      if (!data.fatal) return;
      if (data.type === window.Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
      else if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    });
    hls.loadSource(src);
    hls.attachMedia(video);
    window.framecastHls = hls; // for tests and debugging
  } else {
    video.insertAdjacentHTML("afterend", "<p>This browser cannot play this video.</p>");
  }
})();

// Viewer events for the owner's analytics, as the page's level allows
// (the page has no data-events at level Off, and sends nothing). No
// cookies, no storage: a view is a random id that lives as long as the
// page. Sent with navigator.sendBeacon, so events still go out while
// the page is being closed.
(function () {
  "use strict";
  var video = document.getElementById("player");
  var url = video && video.getAttribute("data-events");
  if (!url) return;
  var bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  var view = Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  // The page's own reading of Do Not Track / Global Privacy Control,
  // for browsers that do not send the headers with beacons.
  var dnt = navigator.doNotTrack === "1" || window.doNotTrack === "1" || navigator.globalPrivacyControl === true;
  var referrer = "";
  try {
    if (document.referrer) referrer = new URL(document.referrer).hostname; // the host only leaves the browser
  } catch (e) { /* not a URL */ }
  // A personal link from a mail (?r=): its secret goes with the start
  // event, and leaves the address bar so a copied link is not personal.
  var recipient = "";
  try {
    var params = new URLSearchParams(location.search);
    recipient = params.get("r") || "";
    if (recipient && history.replaceState) {
      params.delete("r");
      var q = params.toString();
      history.replaceState(null, "", location.pathname + (q ? "?" + q : "") + location.hash);
    }
  } catch (e) { /* an old browser: no personal link */ }
  var started = false, finished = false;
  var seen = {}, pending = [], watched = 0, sentWatched = 0, clicked = {};

  function send(event) {
    event.view = view;
    if (dnt) event.dnt = true;
    var body = JSON.stringify(event);
    if (navigator.sendBeacon && navigator.sendBeacon(url, body)) return;
    try {
      fetch(url, { method: "POST", body: body, keepalive: true, credentials: "omit" }).catch(function () {});
    } catch (e) { /* nothing else to try */ }
  }
  function flush() {
    if (!pending.length) return;
    send({ k: "progress", s: pending, p: sentWatched, n: watched });
    pending = [];
    sentWatched = watched;
  }
  video.addEventListener("play", function () {
    if (started) return;
    started = true;
    var start = { k: "start", r: referrer };
    if (recipient) start.rcp = recipient;
    send(start);
  });
  // Every second played between two timeupdates counts (they come every
  // 250 ms or so, later on a busy machine); a seek starts afresh.
  var last = -1;
  function mark(s) {
    if (seen[s]) return;
    seen[s] = true;
    pending.push(s);
    watched++;
  }
  video.addEventListener("playing", function () { last = video.currentTime; mark(Math.floor(last)); });
  video.addEventListener("seeking", function () { last = -1; });
  video.addEventListener("timeupdate", function () {
    if (!started || video.seeking || video.paused && !video.ended) return;
    var now = video.currentTime;
    var from = last >= 0 && now >= last && now - last <= 3 * (video.playbackRate || 1) ? last : now;
    for (var s = Math.floor(from); s <= Math.floor(now); s++) {
      if (s < Math.ceil(video.duration || Infinity)) mark(s);
    }
    last = now;
  });
  video.addEventListener("pause", flush);
  video.addEventListener("ended", function () {
    flush();
    if (finished) return;
    finished = true;
    send({ k: "finish" });
  });
  setInterval(flush, 5000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush();
  });
  window.addEventListener("pagehide", flush);
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("[data-cta]");
    if (!a) return;
    var i = parseInt(a.getAttribute("data-cta"), 10);
    if (clicked[i]) return;
    clicked[i] = true;
    flush();
    send({ k: "cta", b: i });
  });
})();
