import { afterEach, describe, expect, it, vi } from "vitest";
import { importLabel, mount, themeFor } from "./app";
import { Backend, EventName, Screen, Settings } from "./backend";
import { describeSelection, mapRegion, meterPercent, regionOnThumbnail } from "./picker";

const tick = () => new Promise((r) => setTimeout(r, 0));
const second: Screen = { index: 1, name: "HDMI-1", x: 1920, y: 0, width: 2560, height: 1440, primary: false };

describe("mapRegion", () => {
  it("maps a drag on a thumbnail to the screen's desktop pixels", () => {
    // 2560x1440 shown at 320x180: 8 desktop pixels per shown pixel.
    expect(mapRegion(second, 320, 180, { x: 10, y: 20 }, { x: 170, y: 110 })).toEqual({
      x: 1920 + 80,
      y: 160,
      width: 1280,
      height: 720,
    });
  });
  it("accepts a drag in any direction and pulls it back onto the picture", () => {
    expect(mapRegion(second, 320, 180, { x: 400, y: 300 }, { x: 160, y: 90 })).toEqual({
      x: 1920 + 1280,
      y: 720,
      width: 1280,
      height: 720,
    });
  });
  it("makes the sides even for the encoder", () => {
    const r = mapRegion({ ...second, x: 0, width: 1001, height: 1001 }, 1001, 1001, { x: 0, y: 0 }, { x: 101, y: 57 })!;
    expect(r.width % 2).toBe(0);
    expect(r.height % 2).toBe(0);
    expect(r).toEqual({ x: 0, y: 0, width: 100, height: 56 });
  });
  it("treats a click as the whole screen", () => {
    expect(mapRegion(second, 320, 180, { x: 50, y: 50 }, { x: 51, y: 51 })).toBeNull();
  });
  it("shows a saved region back where it was drawn", () => {
    const r = mapRegion(second, 320, 180, { x: 10, y: 20 }, { x: 170, y: 110 })!;
    expect(regionOnThumbnail(second, r)).toEqual({ left: 10 / 320, top: 20 / 180, width: 0.5, height: 0.5 });
    expect(regionOnThumbnail({ ...second, x: 0 }, r)).toBeNull(); // on another screen
  });
});

describe("meterPercent", () => {
  it("is empty for silence, full at 0 dBFS and linear in dB between", () => {
    expect(meterPercent(-90)).toBe(0);
    expect(meterPercent(-60)).toBe(0);
    expect(meterPercent(-30)).toBe(50);
    expect(meterPercent(-6)).toBe(90);
    expect(meterPercent(0)).toBe(100);
    expect(meterPercent(3)).toBe(100);
    expect(meterPercent(NaN)).toBe(0);
  });
});

describe("settings helpers", () => {
  it("follows the system unless a theme is chosen", () => {
    expect(themeFor("", true)).toBe("dark");
    expect(themeFor("system", false)).toBe("light");
    expect(themeFor("light", true)).toBe("light");
    expect(themeFor("dark", false)).toBe("dark");
  });
  it("says what will be recorded", () => {
    expect(describeSelection({ serverURL: "", display: 1 }, [second])).toBe("HDMI-1, the whole screen (2560×1440)");
    expect(describeSelection({ serverURL: "", region: { x: 1, y: 2, width: 30, height: 40 } }, [second])).toBe(
      "A region of 30×40 at 1,2",
    );
  });
  it("names an import's phase", () => {
    expect(importLabel({ file: "/home/u/talk.mov", phase: "segmenting", progress: 0.42 })).toBe("Preparing talk.mov: 42%");
    expect(importLabel({ file: "C:\\Users\\u\\a.mp4", phase: "probing", progress: 0 })).toBe("Checking a.mp4…");
  });
});

function fake(initial: Settings) {
  const saved: Settings[] = [];
  const calls: string[] = [];
  const handlers = new Map<EventName, ((...d: any[]) => void)[]>();
  const call = (name: string) => async () => {
    calls.push(name);
  };
  const backend: Backend = {
    version: async () => "v",
    getSettings: async () => initial,
    saveSettings: async (s) => {
      saved.push(s);
    },
    hasDeviceToken: async () => true,
    saveDeviceToken: call("token"),
    warnings: async () => [],
    recordingState: async () => "idle",
    startRecording: call("start"),
    stopRecording: call("stop"),
    togglePause: async () => false,
    cancelRecording: call("cancel"),
    listRecordings: async () => [],
    copyLink: call("copy"),
    openLink: call("open"),
    deleteLocal: call("delete"),
    retry: call("retry"),
    signIn: call("signIn"),
    cancelSignIn: call("cancelSignIn"),
    openPicker: call("openPicker"),
    setPickerAudio: async (a) => {
      calls.push(`audio ${a.mic} ${a.systemAudio} ${a.systemAudioDevice}`);
    },
    closePicker: call("closePicker"),
    importVideo: async () => "",
    sendVideo: async () => {},
    on: (name, cb) => {
      handlers.set(name, [...(handlers.get(name) ?? []), cb]);
    },
  };
  const emit = (name: EventName, ...data: unknown[]) => (handlers.get(name) ?? []).forEach((h) => h(...data));
  return { backend, saved, calls, emit };
}

const q = (root: HTMLElement, id: string) => root.querySelector<HTMLElement>(`[data-testid=${id}]`)!;

describe("source picker", () => {
  afterEach(() => vi.restoreAllMocks());

  it("shows live thumbnails and levels while open, and saves a dragged region", async () => {
    const root = document.createElement("div");
    document.body.append(root);
    const f = fake({ serverURL: "http://127.0.0.1:8080", mic: "none" });
    await mount(root, f.backend);
    q(root, "picker-toggle").click();
    await tick();
    expect(f.calls).toContain("openPicker");
    expect(q(root, "picker").hidden).toBe(false);

    f.emit("sources:list", {
      screens: [{ index: 0, name: "Screen 0", x: 0, y: 0, width: 1280, height: 800, primary: true }, second],
      audio: { microphones: [{ id: "mic1", name: "USB mic", default: true }], systemAudio: [{ id: "sink.monitor", name: "Speakers", default: true }] },
      errors: [],
    });
    f.emit("sources:thumbnail", { index: 1, image: "data:image/jpeg;base64,AAAA", width: 320, height: 180 });
    const cards = root.querySelectorAll<HTMLElement>("[data-testid=screen]");
    expect(cards).toHaveLength(2);
    expect(cards[1].querySelector("img")!.getAttribute("src")).toBe("data:image/jpeg;base64,AAAA");
    expect(cards[0].classList.contains("chosen")).toBe(true);

    f.emit("sources:levels", { micDb: -30, systemDb: -90 });
    expect(q(root, "mic-meter").dataset.level).toBe("50");
    expect(q(root, "system-meter").dataset.level).toBe("0");

    // Drag on the second screen's 320x180 thumbnail.
    const frame = cards[1].querySelector<HTMLElement>(".frame")!;
    vi.spyOn(frame, "getBoundingClientRect").mockReturnValue({ left: 100, top: 50, width: 320, height: 180, right: 420, bottom: 230, x: 100, y: 50, toJSON: () => ({}) });
    frame.dispatchEvent(new MouseEvent("mousedown", { clientX: 110, clientY: 70, bubbles: true }));
    window.dispatchEvent(new MouseEvent("mousemove", { clientX: 200, clientY: 120 }));
    window.dispatchEvent(new MouseEvent("mouseup", { clientX: 270, clientY: 160 }));
    await tick();
    expect(f.saved.at(-1)).toMatchObject({ display: 1, region: { x: 2000, y: 160, width: 1280, height: 720 }, mic: "none" });
    expect(q(root, "selection").textContent).toContain("A region of 1280×720 at 2000,160");
    expect(root.querySelector<HTMLElement>("[data-index='1'] [data-testid=region]")!.hidden).toBe(false);

    // A click on the first screen: all of it, the region dropped.
    const first = root.querySelectorAll<HTMLElement>("[data-testid=screen]")[0].querySelector<HTMLElement>(".frame")!;
    first.dispatchEvent(new MouseEvent("mousedown", { clientX: 5, clientY: 5, bubbles: true }));
    window.dispatchEvent(new MouseEvent("mouseup", { clientX: 5, clientY: 5 }));
    await tick();
    expect(f.saved.at(-1)).toMatchObject({ display: 0, region: null });

    // The keyboard picks a whole screen too.
    const secondFrame = root.querySelectorAll<HTMLElement>("[data-testid=screen]")[1].querySelector<HTMLElement>(".frame")!;
    secondFrame.dispatchEvent(new KeyboardEvent("keydown", { key: "Enter", bubbles: true }));
    await tick();
    expect(f.saved.at(-1)).toMatchObject({ display: 1, region: null });
    expect(root.querySelectorAll<HTMLElement>("[data-testid=screen]")[1].querySelector(".frame")!.getAttribute("aria-pressed")).toBe("true");

    // Sound choices are saved and the meters follow them.
    const sys = q(root, "system-audio") as HTMLSelectElement;
    sys.value = "sink.monitor";
    sys.dispatchEvent(new Event("change"));
    await tick();
    await tick();
    expect(f.saved.at(-1)).toMatchObject({ systemAudio: true, systemAudioDevice: "sink.monitor" });
    expect(f.calls).toContain("audio none true sink.monitor");

    // Record closes the picker, releasing the devices first.
    q(root, "record").click();
    await tick();
    expect(f.calls).toContain("closePicker");
    expect(q(root, "picker").hidden).toBe(true);
    root.remove();
  });

  it("imports: shows progress, then the refusal, and offers Import again", async () => {
    const root = document.createElement("div");
    const f = fake({ serverURL: "http://127.0.0.1:8080" });
    let asked = 0;
    f.backend.importVideo = async () => {
      asked++;
      return "/home/u/notes.mp4";
    };
    await mount(root, f.backend);
    const btn = q(root, "import") as HTMLButtonElement;
    btn.click();
    await tick();
    expect(asked).toBe(1);
    expect(btn.disabled).toBe(true); // one import at a time from the window
    f.emit("import:progress", { file: "/home/u/notes.mp4", phase: "probing", progress: 0 });
    expect(q(root, "record-status").textContent).toBe("Checking notes.mp4…");
    f.emit("import:error", "notes.mp4 is not a video file Framecast can read (Invalid data found when processing input)");
    expect(q(root, "record-status").textContent).toContain("is not a video file");
    expect(q(root, "record-status").dataset.kind).toBe("error");
    expect(btn.disabled).toBe(false);
  });

  it("closes when the tray or the shortcut starts a recording, and is offered again after", async () => {
    const root = document.createElement("div");
    const f = fake({ serverURL: "http://127.0.0.1:8080" });
    await mount(root, f.backend);
    q(root, "picker-toggle").click();
    await tick();
    expect(q(root, "picker").hidden).toBe(false);
    f.emit("recording:state", "recording");
    await tick();
    expect(f.calls).toContain("closePicker");
    expect(q(root, "picker").hidden).toBe(true);
    expect((q(root, "picker-toggle") as HTMLButtonElement).disabled).toBe(true);
    f.emit("recording:state", "idle");
    expect((q(root, "picker-toggle") as HTMLButtonElement).disabled).toBe(false);
  });

  it("keeps the picker's choice when the settings form is saved, and saves the new settings", async () => {
    const root = document.createElement("div");
    const f = fake({ serverURL: "http://127.0.0.1:8080", display: 1, region: { x: 1, y: 2, width: 64, height: 64 }, theme: "dark" });
    await mount(root, f.backend);
    expect(document.documentElement.dataset.theme).toBe("dark");
    (root.querySelector("#max-height") as HTMLSelectElement).value = "720";
    (root.querySelector("#fps") as HTMLSelectElement).value = "60";
    (root.querySelector("#tracking") as HTMLSelectElement).value = "anonymous";
    (root.querySelector("#theme") as HTMLSelectElement).value = "light";
    (root.querySelector("#start-at-login") as HTMLInputElement).checked = true;
    root.querySelector("[data-testid=settings-form]")!.dispatchEvent(new Event("submit", { cancelable: true }));
    await tick();
    expect(f.saved).toHaveLength(1);
    expect(f.saved[0]).toMatchObject({
      display: 1,
      region: { x: 1, y: 2, width: 64, height: 64 },
      maxHeight: 720,
      fps: 60,
      tracking: "anonymous",
      theme: "light",
      startAtLogin: true,
    });
    expect(document.documentElement.dataset.theme).toBe("light");
  });
});
