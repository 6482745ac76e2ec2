// "Upload a video" on the dashboard: sends a file in parts with PATCH and
// Upload-Offset, resuming from what the server holds (GET Upload-Offset)
// after a lost connection or a reload, then follows processing until the
// video is ready or refused. The file is read from disk slice by slice by
// the browser; nothing holds it whole in memory.
(function () {
  "use strict";
  var root = document.getElementById("upload");
  if (!root) return;
  var max = Number(root.getAttribute("data-max")) || 0;
  var csrf = root.getAttribute("data-csrf");
  var $ = function (id) { return document.getElementById(id); };
  var exts = [".mp4", ".m4v", ".mov", ".webm", ".mkv"];
  // Part size: one request each; a cut request keeps what arrived anyway.
  function partSize() { return Number(root.getAttribute("data-part")) || 32 * 1024 * 1024; }

  function show(file) {
    $("upload-progress").hidden = false;
    $("upload-name").textContent = file.name;
    $("upload-error").textContent = "";
    $("upload-state").textContent = "";
    $("upload-done").hidden = true;
  }
  function state(text) { $("upload-state").textContent = text; }
  function problem(text) { $("upload-error").textContent = text; state(""); }
  function percent(done, total) {
    var p = total > 0 ? Math.floor((done / total) * 100) : 0;
    $("upload-bar").value = p;
    $("upload-percent").textContent = p + " %";
  }
  function code(xhr) {
    try { return JSON.parse(xhr.responseText).error.code; } catch (e) { return ""; }
  }
  function message(xhr) {
    try { return JSON.parse(xhr.responseText).error.message; } catch (e) { return "The server answered " + xhr.status + "."; }
  }
  function key(file) { return "framecast-upload:" + [file.name, file.size, file.lastModified].join(":"); }

  function request(method, url, body, headers, onProgress) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, url);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      Object.keys(headers || {}).forEach(function (h) { xhr.setRequestHeader(h, headers[h]); });
      if (onProgress) xhr.upload.onprogress = function (e) { onProgress(e.loaded); };
      xhr.onload = function () { resolve(xhr); };
      xhr.onerror = xhr.onabort = xhr.ontimeout = function () { resolve(xhr); };
      xhr.send(body);
    });
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // where asks the server how much of the upload it holds.
  async function where(url) {
    var xhr = await request("GET", url);
    if (xhr.status !== 200) return null;
    return JSON.parse(xhr.responseText);
  }

  async function start(file) {
    show(file);
    var ext = file.name.slice(file.name.lastIndexOf(".")).toLowerCase();
    if (exts.indexOf(ext) < 0) return problem(file.name + " is not a video file Framecast takes: choose an MP4, MOV, WebM or MKV file.");
    if (max > 0 && file.size > max) return problem("The file is larger than the " + Math.round(max / 1048576) + " MiB this server takes.");
    var up = null;
    var saved = localStorage.getItem(key(file));
    if (saved) {
      up = await where(saved);
      if (up && up.state !== "receiving") up = null;
      if (up) state("Resuming where the last upload stopped…");
    }
    if (!up) {
      var xhr = await request("POST", "/uploads", JSON.stringify({ name: file.name, size: file.size }), { "Content-Type": "application/json" });
      if (xhr.status !== 201) return problem(xhr.status ? message(xhr) : "The server cannot be reached; try again.");
      up = JSON.parse(xhr.responseText);
      localStorage.setItem(key(file), up.url);
      refreshLibrary(); // the new video shows in the list at once
    }
    await send(file, up);
  }

  async function send(file, up) {
    var offset = up.offset, failures = 0;
    percent(offset, file.size);
    while (offset < file.size) {
      state("Uploading…");
      var end = Math.min(file.size, offset + partSize());
      var from = offset;
      var xhr = await request("PATCH", up.url, file.slice(from, end), { "Upload-Offset": String(from) },
        function (n) { percent(from + n, file.size); });
      if (xhr.status === 200) {
        up = JSON.parse(xhr.responseText);
        offset = up.offset;
        failures = 0;
        if (up.state !== "receiving") break;
        continue;
      }
      // 409: another offset; 423: another request has it; 408 and a body
      // that ended early (a proxy cut it): all resume below.
      var again = xhr.status === 409 || xhr.status === 423 || xhr.status === 408 || code(xhr) === "upload_interrupted";
      if (xhr.status >= 400 && xhr.status < 500 && !again) {
        localStorage.removeItem(key(file));
        return problem(message(xhr));
      }
      // Lost connection, a busy or moved upload, or a server error: ask
      // where it stands and go on from there.
      failures++;
      state("The connection was interrupted; resuming…");
      await sleep(Math.min(30000, 500 * Math.pow(2, Math.min(failures, 6))));
      var now = await where(up.url);
      if (now) {
        up = now;
        offset = now.offset;
        if (now.state !== "receiving") break;
      }
    }
    percent(file.size, file.size);
    localStorage.removeItem(key(file));
    await follow(up.url);
  }

  // follow shows processing until the video is ready or refused. The
  // links appear as soon as it plays (its first segments are in), so the
  // owner can share it while the rest is processed.
  async function follow(url) {
    for (;;) {
      var up = await where(url);
      if (up && (up.state === "done" || up.playable)) {
        $("upload-video").href = up.video_url;
        $("upload-share").href = up.share_url;
        $("upload-done").hidden = false;
      }
      if (up && up.state === "done") return state("Ready.");
      if (up && up.state === "failed") {
        $("upload-done").hidden = true;
        return problem(up.message);
      }
      if (up) state((up.playable ? "Plays already; processing… " : "Processing… ") + Math.floor(up.progress * 100) + " %");
      await sleep(1000);
    }
  }

  // The library below follows the owner's uploads live: each card of an
  // upload in progress (data-upload) shows how it stands, worded as the
  // server words it (share.ImportStatus), and the list is fetched again
  // when one is ready or failed, or a new one starts.
  function wording(up) {
    if (up.state === "receiving") return "uploading… " + (up.length > 0 ? Math.floor((up.offset * 100) / up.length) : 0) + " %";
    if (up.state === "processing") return (up.playable ? "plays already · " : "") + "processing… " + Math.floor(up.progress * 100) + " %";
    if (up.state === "failed") return "failed";
    return "ready";
  }
  var refreshing = null;
  function refreshLibrary() {
    if (refreshing) return refreshing;
    refreshing = fetch(location.pathname + location.search, { credentials: "same-origin" }).then(function (r) {
      return r.ok ? r.text() : null;
    }).then(function (html) {
      var now = html && new DOMParser().parseFromString(html, "text/html").getElementById("library");
      var lib = $("library");
      if (now && lib) lib.innerHTML = now.innerHTML;
    }).catch(function () { /* the next poll tries again */ }).then(function () { refreshing = null; });
    return refreshing;
  }
  async function followLibrary() {
    for (;;) {
      await sleep(1500);
      var cards = document.querySelectorAll("#library [data-upload]");
      var changed = false;
      for (var i = 0; i < cards.length; i++) {
        var el = cards[i];
        var was = el.getAttribute("data-state"), wasPlayable = el.getAttribute("data-playable") === "true";
        if (was === "failed") continue;
        var up = await where(el.getAttribute("data-upload"));
        if (!up) continue;
        // Ready or failed: the card changes (thumbnail, message); playable:
        // it gets its "Copy link".
        if (up.state !== was && (up.state === "done" || up.state === "failed") || !!up.playable !== wasPlayable) changed = true;
        el.textContent = wording(up);
        el.setAttribute("data-state", up.state);
        el.setAttribute("data-playable", String(!!up.playable));
      }
      if (changed) await refreshLibrary();
    }
  }
  if ($("library")) followLibrary();

  $("upload-file").addEventListener("change", function (e) {
    if (e.target.files.length) start(e.target.files[0]);
  });
  var zone = $("dropzone");
  zone.addEventListener("dragover", function (e) { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", function () { zone.classList.remove("over"); });
  zone.addEventListener("drop", function (e) {
    e.preventDefault();
    zone.classList.remove("over");
    if (e.dataTransfer.files.length) start(e.dataTransfer.files[0]);
  });
})();
