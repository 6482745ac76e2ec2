import { describe, expect, it } from "vitest";
import { formatDuration, mount, stateLabel } from "./app";
import { Backend, EventName, Recording, Settings, validateServerURL } from "./backend";
import { CONSENT_REMINDER, MAX_RECIPIENTS, parseRecipients, sendDisabledReason } from "./send";

const tick = () => new Promise((r) => setTimeout(r, 0));

function rec(over: Partial<Recording> = {}): Recording {
  return {
    id: "a".repeat(32),
    title: "Recording 2026-11-23 10:00",
    createdAt: Date.UTC(2026, 10, 23, 10, 0),
    seconds: 65,
    state: "uploaded",
    segments: 33,
    uploaded: 33,
    progress: 1,
    shareURL: "https://cast.example.com/v/abc",
    error: "",
    localCopy: true,
    ...over,
  };
}

function fakeBackend(initial: Settings, recordings: Recording[] = [], hasToken = false) {
  const saved: Settings[] = [];
  const calls: string[] = [];
  const handlers = new Map<EventName, ((...d: any[]) => void)[]>();
  let library = recordings;
  const call = (name: string) => async (...args: unknown[]) => {
    calls.push([name, ...args].join(" "));
  };
  const backend: Backend = {
    version: async () => "v-test",
    getSettings: async () => initial,
    saveSettings: async (s) => {
      saved.push(s);
    },
    hasDeviceToken: async () => hasToken,
    saveDeviceToken: call("saveDeviceToken"),
    warnings: async () => [],
    recordingState: async () => "idle",
    startRecording: call("start"),
    stopRecording: call("stop"),
    togglePause: async () => {
      calls.push("pause");
      return true;
    },
    cancelRecording: call("cancel"),
    listRecordings: async () => library,
    copyLink: call("copy"),
    openLink: call("open"),
    deleteLocal: call("delete"),
    retry: call("retry"),
    signIn: call("signIn"),
    cancelSignIn: call("cancelSignIn"),
    openPicker: call("openPicker"),
    setPickerAudio: async (a) => {
      calls.push(`setPickerAudio ${JSON.stringify(a)}`);
    },
    closePicker: call("closePicker"),
    importVideo: async () => {
      calls.push("importVideo");
      return "/home/u/clip.mp4";
    },
    sendVideo: async (id, recipients, note) => {
      calls.push(`sendVideo ${id} ${recipients.join(",")} ${note}`);
    },
    on: (name, cb) => {
      handlers.set(name, [...(handlers.get(name) ?? []), cb]);
    },
  };
  const emit = (name: EventName, ...data: unknown[]) => (handlers.get(name) ?? []).forEach((h) => h(...data));
  const setLibrary = (r: Recording[]) => {
    library = r;
  };
  return { backend, saved, calls, emit, setLibrary };
}

async function submit(root: HTMLElement, url: string) {
  const input = root.querySelector<HTMLInputElement>("#server-url")!;
  input.value = url;
  root.querySelector("[data-testid=settings-form]")!.dispatchEvent(new Event("submit", { cancelable: true }));
  await tick();
}

const q = (root: HTMLElement, id: string) => root.querySelector<HTMLElement>(`[data-testid=${id}]`)!;

describe("app shell", () => {
  it("shows the title, version, empty library and the current server", async () => {
    const root = document.createElement("div");
    await mount(root, fakeBackend({ serverURL: "http://127.0.0.1:8080" }).backend);
    expect(root.querySelector("h1")!.textContent).toBe("Framecast");
    expect(q(root, "version").textContent).toBe("v-test");
    expect(q(root, "library-empty").hidden).toBe(false);
    expect(root.querySelector<HTMLInputElement>("#server-url")!.value).toBe("http://127.0.0.1:8080");
    expect(root.dataset.ready).toBe("true");
  });

  it("saves a valid server address", async () => {
    const root = document.createElement("div");
    const { backend, saved } = fakeBackend({ serverURL: "" });
    await mount(root, backend);
    await submit(root, "  https://cast.example.com ");
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ serverURL: "https://cast.example.com" });
    expect(saved[0].hotkey).toBeUndefined();
    expect(q(root, "settings-status").textContent).toBe("Saved.");
  });

  it("saves the shortcut with the address", async () => {
    const root = document.createElement("div");
    const { backend, saved } = fakeBackend({ serverURL: "" });
    await mount(root, backend);
    root.querySelector<HTMLInputElement>("#hotkey")!.value = " Ctrl+Alt+R ";
    await submit(root, "https://cast.example.com");
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ serverURL: "https://cast.example.com", hotkey: "Ctrl+Alt+R" });
  });

  it("refuses an invalid address without saving", async () => {
    const root = document.createElement("div");
    const { backend, saved } = fakeBackend({ serverURL: "" });
    await mount(root, backend);
    await submit(root, "ftp://example.com");
    expect(saved).toEqual([]);
    expect(q(root, "settings-status").textContent).toMatch(/http:\/\/ or https:\/\//);
  });

  it("saves the device token and clears the field", async () => {
    const root = document.createElement("div");
    const f = fakeBackend({ serverURL: "" });
    await mount(root, f.backend);
    const input = root.querySelector<HTMLInputElement>("#device-token")!;
    input.value = " tok-0123456789abcdef ";
    q(root, "token-form").dispatchEvent(new Event("submit", { cancelable: true }));
    await tick();
    expect(f.calls).toEqual(["saveDeviceToken tok-0123456789abcdef"]);
    expect(input.value).toBe("");
    expect(q(root, "token-status").textContent).toBe("Token saved.");
  });
});

describe("sign-in", () => {
  it("shows the code, then who signed in", async () => {
    const root = document.createElement("div");
    const f = fakeBackend({ serverURL: "https://cast.example.com" });
    await mount(root, f.backend);
    q(root, "signin").click();
    await tick();
    expect(f.calls).toEqual(["signIn"]);
    expect((q(root, "signin") as HTMLButtonElement).disabled).toBe(true);
    f.emit("signin:code", { userCode: "ABCD-EFGH", url: "https://cast.example.com/device?code=ABCD-EFGH" });
    expect(q(root, "signin-code").textContent).toContain("ABCD-EFGH");
    q(root, "signin-cancel").click();
    await tick();
    expect(f.calls).toEqual(["signIn", "cancelSignIn"]);
    f.emit("signin:done", "Ada");
    expect(q(root, "signin-status").textContent).toBe("Signed in as Ada.");
    expect((q(root, "signin") as HTMLButtonElement).disabled).toBe(false);
    expect(q(root, "signin-code").hidden).toBe(true);
  });

  it("says why it failed", async () => {
    const root = document.createElement("div");
    const f = fakeBackend({ serverURL: "https://cast.example.com" });
    await mount(root, f.backend);
    q(root, "signin").click();
    await tick();
    f.emit("signin:error", "the sign-in was denied in the browser");
    expect(q(root, "signin-status").textContent).toContain("denied");
  });

  it("needs a server address first", async () => {
    const root = document.createElement("div");
    const f = fakeBackend({ serverURL: "" });
    await mount(root, f.backend);
    q(root, "signin").click();
    await tick();
    expect(f.calls).toEqual([]);
    expect(q(root, "signin-status").dataset.kind).toBe("error");
  });
});

describe("recording", () => {
  it("counts down 3-2-1, then starts", async () => {
    const root = document.createElement("div");
    const f = fakeBackend({ serverURL: "" });
    await mount(root, f.backend, { countdownStepMs: 50 });
    q(root, "record").click();
    await tick();
    expect(q(root, "countdown").hidden).toBe(false);
    expect(q(root, "countdown").textContent).toBe("3");
    expect(q(root, "record").hidden).toBe(true);
    expect(f.calls).toEqual([]);
    for (let i = 0; i < 200 && f.calls.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(f.calls).toEqual(["start"]);
    expect(q(root, "countdown").hidden).toBe(true);
  });

  it("shows the HUD while recording and drives pause, stop and cancel", async () => {
    const root = document.createElement("div");
    const f = fakeBackend({ serverURL: "" });
    await mount(root, f.backend);
    expect(q(root, "hud").hidden).toBe(true);
    f.emit("recording:state", "recording");
    f.emit("recording:stats", { elapsed: 75.4, fps: 30, dropped: 0, segments: 3, micDb: -20, systemDb: -90, state: "recording" });
    expect(q(root, "hud").hidden).toBe(false);
    expect(q(root, "record").hidden).toBe(true);
    expect(q(root, "elapsed").textContent).toBe("1:15");
    expect(q(root, "hud-mic").dataset.level).toBe("67"); // -20 dBFS
    q(root, "pause").click();
    f.emit("recording:state", "paused");
    expect(q(root, "pause").textContent).toBe("Resume");
    expect(q(root, "hud-state").textContent).toContain("Paused");
    q(root, "stop").click();
    q(root, "cancel").click();
    await tick();
    expect(f.calls).toEqual(["pause", "stop", "cancel"]);
    f.emit("recording:state", "idle");
    expect(q(root, "hud").hidden).toBe(true);
    expect(q(root, "record").hidden).toBe(false);
  });

  it("says where the recording went when it stops", async () => {
    const root = document.createElement("div");
    const f = fakeBackend({ serverURL: "" });
    await mount(root, f.backend);
    f.emit("recording:stopped", { recording: "x", title: "t", offline: true, message: "Saved offline; it will upload when the server is reachable.", seconds: 4 });
    expect(q(root, "record-status").textContent).toContain("Saved offline");
    f.emit("recording:stopped", { recording: "x", title: "t", offline: false, shareURL: "https://c/v/s", message: "", seconds: 4 });
    expect(q(root, "record-status").textContent).toContain("https://c/v/s");
  });

  it("shows warnings from the Go side", async () => {
    const root = document.createElement("div");
    const f = fakeBackend({ serverURL: "" });
    f.backend.warnings = async () => ["The tray icon is not available."];
    await mount(root, f.backend);
    f.emit("app:warning", "The shortcut is taken.");
    f.emit("app:warning", "The shortcut is taken.");
    expect(q(root, "warnings").children.length).toBe(2);
    expect(q(root, "warnings").textContent).toContain("tray icon");
    expect(q(root, "warnings").textContent).toContain("shortcut is taken");
  });
});

describe("library", () => {
  it("lists recordings with their upload state and actions", async () => {
    const root = document.createElement("div");
    const f = fakeBackend({ serverURL: "" }, [
      rec(),
      rec({ id: "b".repeat(32), state: "failed", error: "The server refused it.", shareURL: "", localCopy: true }),
    ]);
    await mount(root, f.backend);
    const items = root.querySelectorAll<HTMLElement>("[data-testid=library-item]");
    expect(items.length).toBe(2);
    expect(q(root, "library-empty").hidden).toBe(true);
    expect(items[0].querySelector("[data-testid=item-duration]")!.textContent).toBe("1:05");
    expect(items[0].querySelector("[data-testid=item-state]")!.textContent).toBe("Uploaded");
    expect(items[1].querySelector("[data-testid=item-state]")!.textContent).toBe("Failed: The server refused it.");
    expect(items[1].querySelector("[data-testid=copy]")).toBeNull();
    expect(items[1].querySelector("[data-testid=delete]")).toBeNull();

    items[0].querySelector<HTMLElement>("[data-testid=copy]")!.click();
    items[0].querySelector<HTMLElement>("[data-testid=open]")!.click();
    items[0].querySelector<HTMLElement>("[data-testid=delete]")!.click();
    items[1].querySelector<HTMLElement>("[data-testid=retry]")!.click();
    await tick();
    expect(f.calls).toEqual([
      "copy https://cast.example.com/v/abc",
      "open https://cast.example.com/v/abc",
      "delete " + "a".repeat(32),
      "retry " + "b".repeat(32),
    ]);
    expect(q(root, "record-status").textContent).toBe("Link copied.");
  });

  it("refreshes when the Go side says the library changed", async () => {
    const root = document.createElement("div");
    const f = fakeBackend({ serverURL: "" });
    await mount(root, f.backend);
    expect(root.querySelectorAll("[data-testid=library-item]").length).toBe(0);
    f.setLibrary([rec({ state: "uploading", progress: 0.42, shareURL: "" })]);
    f.emit("library:changed");
    await tick();
    await tick();
    expect(q(root, "item-state").textContent).toBe("Uploading 42%");
  });
});

describe("formatting", () => {
  it.each([
    [0, "0:00"],
    [4.6, "0:04"],
    [65, "1:05"],
    [3725, "1:02:05"],
  ])("formatDuration(%s)", (s, want) => expect(formatDuration(s)).toBe(want));

  it("labels every state", () => {
    expect(stateLabel(rec({ state: "waiting" }))).toBe("Waiting to upload");
    expect(stateLabel(rec({ state: "recording" }))).toBe("Recording…");
    expect(stateLabel(rec({ state: "failed", error: "" }))).toBe("Failed");
  });
});

it("stays hidden when the backend fails", async () => {
  const root = document.createElement("div");
  const f = fakeBackend({ serverURL: "" });
  f.backend.getSettings = async () => {
    throw new Error("no Go side");
  };
  await expect(mount(root, f.backend)).rejects.toThrow("no Go side");
  expect(root.dataset.ready).toBeUndefined();
});

describe("validateServerURL", () => {
  it.each([
    ["http://127.0.0.1:8080", ""],
    ["https://cast.example.com/", ""],
    ["cast.example.com", "Enter the full server address"],
    ["javascript:alert(1)", "must start with http"],
    ["https://x.example/?a=1", "cannot contain"],
  ])("%s", (url, want) => {
    const got = validateServerURL(url);
    if (want === "") expect(got).toBe("");
    else expect(got).toContain(want);
  });
});

describe("send by e-mail", () => {
  it("splits recipients on commas, semicolons and lines, once each, lower-cased", () => {
    expect(parseRecipients(" Ann@Example.com,bob@example.org;\n\ncarol@example.net \r\n ann@example.com ,")).toEqual({
      addresses: ["ann@example.com", "bob@example.org", "carol@example.net"],
      error: "",
    });
  });

  it("rejects what is not an address, an empty list and too many", () => {
    expect(parseRecipients("ann@example.com, bob").error).toBe("“bob” is not an e-mail address.");
    expect(parseRecipients("Ann <ann@example.com>").error).toMatch(/is not an e-mail address/);
    expect(parseRecipients("ann@@example.com").error).toMatch(/is not an e-mail address/);
    expect(parseRecipients("ann@localhost").error).toMatch(/is not an e-mail address/);
    expect(parseRecipients(" ,\n ").error).toBe("Give at least one e-mail address.");
    const many = Array.from({ length: MAX_RECIPIENTS + 1 }, (_, i) => `p${i}@example.com`).join("\n");
    expect(parseRecipients(many).error).toBe(`At most ${MAX_RECIPIENTS} recipients at once.`);
    expect(parseRecipients(many.split("\n").slice(0, MAX_RECIPIENTS).join(",")).addresses).toHaveLength(MAX_RECIPIENTS);
  });

  it("says why a recording cannot be sent", () => {
    expect(sendDisabledReason(rec({ onServer: true }), false)).toBe("Sign in first to send videos by e-mail.");
    expect(sendDisabledReason(rec({ onServer: false, state: "waiting" }), true)).toMatch(/^Not on the server yet/);
    expect(sendDisabledReason(rec({ onServer: true }), true)).toBe("");
  });

  it("disables the action with its reason until signed in and uploaded", async () => {
    const root = document.createElement("div");
    const waiting = rec({ id: "b".repeat(32), state: "waiting", onServer: false, shareURL: "" });
    const { backend, emit } = fakeBackend({ serverURL: "https://cast.example.com" }, [rec({ onServer: true }), waiting]);
    await mount(root, backend);
    const buttons = () => [...root.querySelectorAll<HTMLButtonElement>("[data-testid=send]")];
    expect(buttons().map((b) => [b.disabled, b.title])).toEqual([
      [true, "Sign in first to send videos by e-mail."],
      [true, "Sign in first to send videos by e-mail."],
    ]);
    emit("signin:done", "Ada");
    await tick();
    expect(buttons().map((b) => [b.disabled, b.title])).toEqual([
      [false, ""],
      [true, "Not on the server yet: it can be sent once it has uploaded."],
    ]);
  });

  it("checks the recipients, shows the consent reminder, sends and shows what the server said", async () => {
    const root = document.createElement("div");
    const r = rec({ onServer: true });
    const { backend, calls, emit } = fakeBackend({ serverURL: "https://cast.example.com" }, [r], true);
    await mount(root, backend);
    const form = q(root, "send-form") as HTMLFormElement;
    expect(form.hidden).toBe(true);
    q(root, "send").click();
    expect(form.hidden).toBe(false);
    expect(q(root, "send-consent").textContent).toBe(CONSENT_REMINDER);
    const to = root.querySelector<HTMLTextAreaElement>("#send-to")!;
    to.value = "ann@example.com\nnope";
    form.dispatchEvent(new Event("submit", { cancelable: true }));
    await tick();
    expect(q(root, "send-status").textContent).toBe("“nope” is not an e-mail address.");
    expect(calls.filter((c) => c.startsWith("sendVideo"))).toEqual([]);

    to.value = "ann@example.com\nBob@example.com";
    root.querySelector<HTMLTextAreaElement>("#send-note")!.value = " Have a look ";
    form.dispatchEvent(new Event("submit", { cancelable: true }));
    await tick();
    expect(calls).toContain(`sendVideo ${r.id} ann@example.com,bob@example.com Have a look`);
    expect((q(root, "send-submit") as HTMLButtonElement).disabled).toBe(true);
    emit("send:error", { recording: r.id, message: "The note is longer than 2000 characters." });
    expect(q(root, "send-status").textContent).toBe("The note is longer than 2000 characters.");
    expect(q(root, "send-status").dataset.kind).toBe("error");
    expect((q(root, "send-submit") as HTMLButtonElement).disabled).toBe(false);
    emit("send:done", { recording: r.id, sent: 1, unsubscribed: ["bob@example.com"], personal: true });
    expect(q(root, "send-status").textContent).toBe(
      "Sent to 1 recipient, each with a personal link. Not sent to bob@example.com: they unsubscribed.",
    );
    expect(to.value).toBe("");
  });
});
