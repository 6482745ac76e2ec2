import { Backend, ImportProgress, Outcome, Recording, Settings, SignInCode, Stats, validateServerURL } from "./backend";
import { meterPercent, mountPicker } from "./picker";
import { CONSENT_REMINDER, parseRecipients, sendDisabledReason, Sent, sentLabel } from "./send";

export interface MountOptions {
  // countdownStepMs is the length of each step of the 3-2-1 countdown.
  countdownStepMs?: number;
}

// formatDuration shows seconds as m:ss (or h:mm:ss).
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

// stateLabel is what the library says about a recording's upload.
export function stateLabel(r: Recording): string {
  switch (r.state) {
    case "recording":
      return "Recording…";
    case "waiting":
      return "Waiting to upload";
    case "uploading":
      return `Uploading ${Math.round(r.progress * 100)}%`;
    case "uploaded":
      return "Uploaded";
    case "failed":
      return r.error ? `Failed: ${r.error}` : "Failed";
  }
}

// themeFor is the theme the page shows for a setting: "light" or "dark"
// as chosen, else what the system prefers.
export function themeFor(setting: Settings["theme"], systemPrefersDark: boolean): "light" | "dark" {
  if (setting === "light" || setting === "dark") return setting;
  return systemPrefersDark ? "dark" : "light";
}

// importLabel says where an import is, for the status line.
export function importLabel(p: ImportProgress): string {
  const name = p.file.split(/[\\/]/).pop() ?? p.file;
  switch (p.phase) {
    case "probing":
      return `Checking ${name}…`;
    case "segmenting":
      return `Preparing ${name}: ${Math.round(p.progress * 100)}%`;
    case "queueing":
      return `Sealing ${name} for upload…`;
    case "done":
      return p.message || `${name} is in the library and uploads when the server is reachable.`;
  }
}

function formatDate(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> & { testid?: string } = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  const { testid, ...rest } = props;
  Object.assign(e, rest);
  if (testid) e.dataset.testid = testid;
  e.append(...children);
  return e;
}

// mount renders the app shell into root and wires it to the backend.
export async function mount(root: HTMLElement, backend: Backend, opts: MountOptions = {}): Promise<void> {
  const step = opts.countdownStepMs ?? 1000;
  root.innerHTML = `
    <header class="band" data-testid="band">
      <h1>Framecast</h1>
      <span class="version" data-testid="version"></span>
    </header>
    <div class="warnings" data-testid="warnings" role="alert"></div>
    <main>
      <section class="record">
        <button class="record-button" data-testid="record">● Record</button>
        <button type="button" class="import-button" data-testid="import">Import video…</button>
        <div class="countdown" data-testid="countdown" hidden></div>
        <div class="hud" data-testid="hud" hidden>
          <span class="rec-dot" data-testid="hud-state">● REC</span>
          <span class="elapsed" data-testid="elapsed">0:00</span>
          <span class="meter hud-meter" data-testid="hud-mic" title="Microphone level"><span class="level"></span></span>
          <button data-testid="pause">Pause</button>
          <button data-testid="stop">Stop</button>
          <button data-testid="cancel">Cancel</button>
        </div>
        <p class="status" role="status" data-testid="record-status"></p>
      </section>
      <section class="sources" aria-labelledby="sources-title">
        <h2 id="sources-title">What to record</h2>
        <button type="button" data-testid="picker-toggle" aria-expanded="false">Choose screen and sound…</button>
        <div data-testid="picker-root"></div>
      </section>
      <section class="library" aria-labelledby="library-title">
        <h2 id="library-title">Library</h2>
        <p class="empty" data-testid="library-empty">No recordings yet. Press Record to make your first one.</p>
        <ul class="items" data-testid="library-list"></ul>
        <form class="send" data-testid="send-form" hidden novalidate>
          <h3 data-testid="send-title"></h3>
          <label for="send-to">Recipients (separate with commas or lines)</label>
          <textarea id="send-to" name="recipients" rows="3" spellcheck="false" placeholder="ann@example.com, bob@example.com"></textarea>
          <label for="send-note">Message (optional)</label>
          <textarea id="send-note" name="note" rows="3" maxlength="2000"></textarea>
          <p class="consent" data-testid="send-consent"></p>
          <button type="submit" data-testid="send-submit">Send</button>
          <button type="button" data-testid="send-close">Close</button>
          <p class="status" role="status" data-testid="send-status"></p>
        </form>
      </section>
      <section class="settings" aria-labelledby="settings-title">
        <h2 id="settings-title">Settings</h2>
        <form data-testid="settings-form" novalidate>
          <label for="server-url">Server address</label>
          <input id="server-url" name="serverURL" type="url" autocomplete="url" spellcheck="false" />
          <label for="hotkey">Shortcut</label>
          <input id="hotkey" name="hotkey" placeholder="Ctrl+Shift+R" spellcheck="false" />
          <label for="max-height">Resolution</label>
          <select id="max-height" name="maxHeight">
            <option value="720">Up to 720p</option>
            <option value="0">Up to 1080p</option>
            <option value="1440">Up to 1440p</option>
            <option value="2160">Up to 2160p (4K)</option>
            <option value="-1">The screen's own</option>
          </select>
          <label for="fps">Frame rate</label>
          <select id="fps" name="fps">
            <option value="15">15 fps</option>
            <option value="24">24 fps</option>
            <option value="0">30 fps</option>
            <option value="60">60 fps</option>
          </select>
          <label for="tracking">Viewer tracking for new videos</label>
          <select id="tracking" name="tracking">
            <option value="">The account's default</option>
            <option value="full">Full (who watched, how long)</option>
            <option value="anonymous">Anonymous (counts only)</option>
            <option value="off">Off</option>
          </select>
          <label for="theme">Appearance</label>
          <select id="theme" name="theme">
            <option value="system">As the system</option>
            <option value="light">Light</option>
            <option value="dark">Dark</option>
          </select>
          <label for="start-at-login">Start at login</label>
          <input id="start-at-login" name="startAtLogin" type="checkbox" />
          <button type="submit">Save</button>
          <p class="status" role="status" data-testid="settings-status"></p>
        </form>
        <div class="signin">
          <button type="button" data-testid="signin">Sign in with the browser</button>
          <span class="signin-code" data-testid="signin-code" hidden></span>
          <button type="button" data-testid="signin-cancel" hidden>Cancel</button>
          <p class="status" role="status" data-testid="signin-status"></p>
        </div>
        <form data-testid="token-form" novalidate>
          <label for="device-token">Device token</label>
          <input id="device-token" name="token" type="password" autocomplete="off" spellcheck="false" />
          <button type="submit">Save token</button>
          <p class="status" role="status" data-testid="token-status"></p>
        </form>
      </section>
    </main>`;

  const q = <T extends HTMLElement>(id: string) => root.querySelector<T>(`[data-testid=${id}]`)!;
  const version = q("version");
  const form = q<HTMLFormElement>("settings-form");
  const input = form.querySelector<HTMLInputElement>("#server-url")!;
  const hotkeyInput = form.querySelector<HTMLInputElement>("#hotkey")!;
  const status = q("settings-status");
  const tokenForm = q<HTMLFormElement>("token-form");
  const tokenInput = tokenForm.querySelector<HTMLInputElement>("#device-token")!;
  const tokenStatus = q("token-status");
  const recordBtn = q<HTMLButtonElement>("record");
  const countdown = q("countdown");
  const hud = q("hud");
  const hudState = q("hud-state");
  const elapsed = q("elapsed");
  const pauseBtn = q<HTMLButtonElement>("pause");
  const recStatus = q("record-status");
  const warnings = q("warnings");
  const list = q("library-list");
  const signinBtn = q<HTMLButtonElement>("signin");
  const signinCode = q("signin-code");
  const signinCancel = q<HTMLButtonElement>("signin-cancel");
  const signinStatus = q("signin-status");
  const empty = q("library-empty");
  const importBtn = q<HTMLButtonElement>("import");
  const pickerToggle = q<HTMLButtonElement>("picker-toggle");
  const maxHeight = form.querySelector<HTMLSelectElement>("#max-height")!;
  const fps = form.querySelector<HTMLSelectElement>("#fps")!;
  const tracking = form.querySelector<HTMLSelectElement>("#tracking")!;
  const theme = form.querySelector<HTMLSelectElement>("#theme")!;
  const startAtLogin = form.querySelector<HTMLInputElement>("#start-at-login")!;
  const sendForm = q<HTMLFormElement>("send-form");
  const sendTo = sendForm.querySelector<HTMLTextAreaElement>("#send-to")!;
  const sendNote = sendForm.querySelector<HTMLTextAreaElement>("#send-note")!;
  const sendSubmit = q<HTMLButtonElement>("send-submit");
  const sendStatus = q("send-status");
  const [lead, ...rest] = CONSENT_REMINDER.split(": ");
  q("send-consent").append(el("strong", {}, `${lead}:`), ` ${rest.join(": ")}`);

  const say = (where: HTMLElement, text: string, kind: "ok" | "error") => {
    where.textContent = text;
    where.dataset.kind = kind;
  };
  const attempt = async (where: HTMLElement, what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (err) {
      say(where, `${what}: ${String(err)}`, "error");
    }
  };

  // The recording's state, as the Go side reports it.
  let state = "idle";
  let counting = false;
  // Set once the picker is mounted: a recording started by the tray or
  // the shortcut closes it (the recorder has taken the devices).
  let whileRecording = () => {};
  const showState = (s: string) => {
    state = s;
    const active = s === "recording" || s === "paused" || s === "stopping";
    if (active) whileRecording();
    hud.hidden = !active;
    recordBtn.hidden = active || counting;
    root.dataset.recording = s;
    hudState.textContent = s === "paused" ? "❚❚ Paused" : s === "stopping" ? "Stopping…" : "● REC";
    pauseBtn.textContent = s === "paused" ? "Resume" : "Pause";
    if (s === "idle") elapsed.textContent = "0:00";
  };
  const hudMic = q("hud-mic");
  const showStats = (st: Stats) => {
    elapsed.textContent = formatDuration(st.elapsed);
    // The louder of the two sources: the user checks that they are heard.
    const level = meterPercent(Math.max(st.micDb ?? -90, st.systemDb ?? -90));
    hudMic.dataset.level = String(level);
    hudMic.querySelector<HTMLElement>(".level")!.style.width = `${level}%`;
  };

  // Signed in: a device token is saved (sending by e-mail needs it).
  let signedIn = false;
  let sending = ""; // the recording the send form is for
  const openSend = (r: Recording) => {
    sending = r.id;
    q("send-title").textContent = `Send “${r.title}” by e-mail`;
    sendForm.hidden = false;
    sendSubmit.disabled = false;
    say(sendStatus, "", "ok");
    sendTo.focus();
  };
  const renderLibrary = (recs: Recording[]) => {
    list.replaceChildren();
    empty.hidden = recs.length > 0;
    for (const r of recs) {
      const actions = el("span", { className: "actions" });
      const act = (label: string, testid: string, fn: () => Promise<unknown>) => {
        const b = el("button", { testid, type: "button" }, label);
        b.addEventListener("click", () => attempt(recStatus, label, fn));
        actions.append(b);
      };
      if (r.shareURL) {
        act("Copy link", "copy", async () => {
          await backend.copyLink(r.shareURL);
          say(recStatus, "Link copied.", "ok");
        });
        act("Open", "open", () => backend.openLink(r.shareURL));
      }
      if (r.state === "failed" || r.state === "waiting") act("Retry", "retry", () => backend.retry(r.id));
      if (r.localCopy && r.state === "uploaded") act("Delete local copy", "delete", () => backend.deleteLocal(r.id));
      if (r.state !== "recording") {
        const why = sendDisabledReason(r, signedIn);
        const b = el("button", { testid: "send", type: "button", disabled: !!why, title: why }, "Send by e-mail…");
        b.addEventListener("click", () => openSend(r));
        actions.append(b);
      }
      const progress = el("progress", { max: 1, value: r.progress });
      progress.hidden = r.state !== "uploading";
      const thumb = el("img", { className: "thumb", alt: "", testid: "item-thumbnail" });
      if (r.thumbnail) thumb.src = r.thumbnail;
      else thumb.classList.add("none");
      const li = el(
        "li",
        { testid: "library-item", className: `item state-${r.state}` },
        thumb,
        el("span", { className: "title", testid: "item-title" }, r.kind === "import" ? `${r.title} (imported)` : r.title),
        el("span", { className: "date" }, formatDate(r.createdAt)),
        el("span", { className: "duration", testid: "item-duration" }, formatDuration(r.seconds)),
        el("span", { className: "upload", testid: "item-state" }, stateLabel(r)),
        progress,
        actions,
      );
      li.dataset.id = r.id;
      list.append(li);
    }
  };
  let refreshing: Promise<void> | null = null;
  let again = false;
  const refresh = async (): Promise<void> => {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        again = false;
        try {
          renderLibrary(await backend.listRecordings());
        } catch (err) {
          say(recStatus, `Could not read the library: ${String(err)}`, "error");
        }
      } while (again);
    })();
    try {
      await refreshing;
    } finally {
      refreshing = null;
    }
  };

  const shown = new Set<string>();
  const addWarning = (msg: string) => {
    if (shown.has(msg)) return; // each recording repeats e.g. "no microphone"
    shown.add(msg);
    warnings.append(el("p", { className: "warning" }, msg));
  };

  const [v, settings, ws, st, hasToken] = await Promise.all([
    backend.version(),
    backend.getSettings(),
    backend.warnings(),
    backend.recordingState(),
    backend.hasDeviceToken(),
  ]);
  version.textContent = v;
  signedIn = hasToken;
  let current: Settings = settings;
  const dark = window.matchMedia?.("(prefers-color-scheme: dark)");
  const applyTheme = () => {
    document.documentElement.dataset.theme = themeFor(current.theme, !!dark?.matches);
  };
  dark?.addEventListener?.("change", applyTheme);
  const showSettings = () => {
    input.value = current.serverURL;
    hotkeyInput.value = current.hotkey ?? "";
    maxHeight.value = String(current.maxHeight ?? 0);
    fps.value = String(current.fps ?? 0);
    tracking.value = current.tracking ?? "";
    theme.value = current.theme || "system";
    startAtLogin.checked = !!current.startAtLogin;
    applyTheme();
  };
  showSettings();
  const saveSettings = async (s: Settings) => {
    await backend.saveSettings(s);
    current = s;
  };
  const picker = mountPicker(q("picker-root"), backend, () => current, saveSettings);
  const closePicker = async () => {
    pickerToggle.setAttribute("aria-expanded", "false");
    pickerToggle.textContent = "Choose screen and sound…";
    await picker.close();
  };
  whileRecording = () => {
    pickerToggle.disabled = true;
    if (picker.isOpen()) void closePicker();
  };
  backend.on("recording:state", (s: string) => {
    if (s === "idle") pickerToggle.disabled = false;
  });
  pickerToggle.addEventListener("click", async () => {
    const opening = !picker.isOpen();
    pickerToggle.setAttribute("aria-expanded", String(opening));
    pickerToggle.textContent = opening ? "Done choosing" : "Choose screen and sound…";
    await (opening ? picker.open() : picker.close());
  });
  tokenInput.placeholder = hasToken ? "A token is saved" : "Paste the token from the server";
  ws.forEach(addWarning);
  showState(st);
  // The shell stays hidden until the Go side has answered, so a visible
  // window means the app really works (the GUI smoke test relies on it).
  root.dataset.ready = "true";
  await refresh();

  backend.on("recording:state", (s: string) => showState(s));
  backend.on("recording:stats", (s: Stats) => showStats(s));
  backend.on("library:changed", () => void refresh());
  backend.on("upload:progress", () => void refresh());
  backend.on("app:warning", (m: string) => addWarning(m));
  backend.on("recording:error", (m: string) => say(recStatus, m, "error"));
  backend.on("import:progress", (p: ImportProgress) => {
    say(recStatus, importLabel(p), "ok");
    if (p.phase === "done") importBtn.disabled = false;
  });
  backend.on("import:error", (m: string) => {
    say(recStatus, m, "error");
    importBtn.disabled = false;
  });
  importBtn.addEventListener("click", async () => {
    importBtn.disabled = true;
    try {
      const file = await backend.importVideo();
      if (!file) importBtn.disabled = false; // the user cancelled the dialog
    } catch (err) {
      say(recStatus, `Could not import: ${String(err)}`, "error");
      importBtn.disabled = false;
    }
  });
  backend.on("recording:stopped", (o: Outcome) => {
    say(recStatus, o.shareURL ? `Link ready — copied: ${o.shareURL}` : o.message, "ok");
    void refresh();
  });

  sendForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const { addresses, error } = parseRecipients(sendTo.value);
    if (error) {
      say(sendStatus, error, "error");
      return;
    }
    sendSubmit.disabled = true;
    say(sendStatus, "Sending…", "ok");
    try {
      await backend.sendVideo(sending, addresses, sendNote.value.trim());
    } catch (err) {
      sendSubmit.disabled = false;
      say(sendStatus, `Could not send: ${String(err)}`, "error");
    }
  });
  q("send-close").addEventListener("click", () => {
    sendForm.hidden = true;
    sending = "";
  });
  backend.on("send:done", (s: Sent) => {
    if (s.recording !== sending) return;
    sendSubmit.disabled = false;
    sendTo.value = "";
    sendNote.value = "";
    say(sendStatus, sentLabel(s), "ok");
  });
  backend.on("send:error", (f: { recording: string; message: string }) => {
    if (f.recording !== sending) return;
    sendSubmit.disabled = false;
    say(sendStatus, f.message, "error");
  });

  const signingIn = (on: boolean) => {
    signinBtn.disabled = on;
    signinCancel.hidden = !on;
    signinCode.hidden = !on;
  };
  backend.on("signin:code", (c: SignInCode) => {
    signinCode.textContent = `Check that the browser shows ${c.userCode}, then approve.`;
    signinCode.hidden = false;
  });
  backend.on("signin:done", (who: string) => {
    signingIn(false);
    signedIn = true;
    void refresh();
    tokenInput.placeholder = "A token is saved";
    say(signinStatus, who ? `Signed in as ${who}.` : "Signed in.", "ok");
  });
  backend.on("signin:error", (m: string) => {
    signingIn(false);
    say(signinStatus, m, "error");
  });
  signinBtn.addEventListener("click", async () => {
    const problem = validateServerURL(input.value);
    if (problem) {
      say(signinStatus, problem, "error");
      return;
    }
    signingIn(true);
    say(signinStatus, "Waiting for the browser…", "ok");
    try {
      await backend.signIn();
    } catch (err) {
      signingIn(false);
      say(signinStatus, `Could not sign in: ${String(err)}`, "error");
    }
  });
  signinCancel.addEventListener("click", async () => {
    await backend.cancelSignIn();
  });

  recordBtn.addEventListener("click", async () => {
    if (counting || state !== "idle") return;
    if (picker.isOpen()) await closePicker();
    counting = true;
    recordBtn.hidden = true;
    countdown.hidden = false;
    for (const n of [3, 2, 1]) {
      countdown.textContent = String(n);
      await new Promise((r) => setTimeout(r, step));
    }
    countdown.hidden = true;
    counting = false;
    say(recStatus, "", "ok");
    try {
      await backend.startRecording();
    } catch (err) {
      say(recStatus, `Could not start recording: ${String(err)}`, "error");
    }
    showState(state);
  });
  pauseBtn.addEventListener("click", () => attempt(recStatus, "Could not pause", () => backend.togglePause()));
  q("stop").addEventListener("click", () => attempt(recStatus, "Could not stop", () => backend.stopRecording()));
  q("cancel").addEventListener("click", () => attempt(recStatus, "Could not cancel", () => backend.cancelRecording()));

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const problem = validateServerURL(input.value);
    if (problem) {
      say(status, problem, "error");
      return;
    }
    try {
      const s: Settings = {
        ...current,
        serverURL: input.value.trim(),
        maxHeight: Number(maxHeight.value),
        fps: Number(fps.value),
        tracking: tracking.value as Settings["tracking"],
        theme: theme.value as Settings["theme"],
        startAtLogin: startAtLogin.checked,
      };
      const hk = hotkeyInput.value.trim();
      if (hk) s.hotkey = hk;
      else delete s.hotkey;
      await saveSettings(s);
      applyTheme();
      say(status, "Saved.", "ok");
    } catch (err) {
      say(status, `Could not save: ${String(err)}`, "error");
    }
  });
  tokenForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      await backend.saveDeviceToken(tokenInput.value.trim());
      tokenInput.value = "";
      tokenInput.placeholder = "A token is saved";
      signedIn = true;
      void refresh();
      say(tokenStatus, "Token saved.", "ok");
    } catch (err) {
      say(tokenStatus, `Could not save the token: ${String(err)}`, "error");
    }
  });
}
