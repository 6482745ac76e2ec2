import { AudioDevice, Backend, Levels, Region, Screen, Settings, SourceList, Thumbnail } from "./backend";

export interface Point {
  x: number;
  y: number;
}

// The smallest region side worth recording (settings.MinRegionSide).
export const minRegionSide = 16;

// mapRegion turns a drag from a to b on a screen's thumbnail, shown
// shownW×shownH CSS pixels, into a rectangle of that screen in desktop
// pixels. Points outside the picture are pulled back onto it; sides are
// made even (the H.264 encoder needs even sizes). A drag too small to be
// meant (a click) gives null: the whole screen.
export function mapRegion(screen: Screen, shownW: number, shownH: number, a: Point, b: Point): Region | null {
  if (shownW <= 0 || shownH <= 0) return null;
  const clamp = (v: number, hi: number) => Math.min(Math.max(v, 0), hi);
  const sx = screen.width / shownW;
  const sy = screen.height / shownH;
  const x0 = Math.floor(clamp(Math.min(a.x, b.x), shownW) * sx);
  const y0 = Math.floor(clamp(Math.min(a.y, b.y), shownH) * sy);
  const x1 = Math.ceil(clamp(Math.max(a.x, b.x), shownW) * sx);
  const y1 = Math.ceil(clamp(Math.max(a.y, b.y), shownH) * sy);
  let w = Math.min(x1, screen.width) - x0;
  let h = Math.min(y1, screen.height) - y0;
  w -= w % 2;
  h -= h % 2;
  if (w < minRegionSide || h < minRegionSide) return null;
  return { x: screen.x + x0, y: screen.y + y0, width: w, height: h };
}

// regionOnThumbnail is mapRegion backwards: where a saved region shows on
// a thumbnail, as fractions (0..1) of its width and height, or null when
// the region is not on this screen.
export function regionOnThumbnail(screen: Screen, r: Region): { left: number; top: number; width: number; height: number } | null {
  const inside =
    r.x >= screen.x && r.y >= screen.y && r.x + r.width <= screen.x + screen.width && r.y + r.height <= screen.y + screen.height;
  if (!inside) return null;
  return {
    left: (r.x - screen.x) / screen.width,
    top: (r.y - screen.y) / screen.height,
    width: r.width / screen.width,
    height: r.height / screen.height,
  };
}

// meterPercent maps a level in dBFS onto a meter 0..100: -60 dB and below
// is empty, 0 dB full, linear in dB between (how loudness is heard).
export function meterPercent(db: number): number {
  if (!Number.isFinite(db) || db <= -60) return 0;
  if (db >= 0) return 100;
  return Math.round(((db + 60) / 60) * 100);
}

// describeSelection says in words what will be recorded.
export function describeSelection(s: Settings, screens: Screen[]): string {
  const screen = screens.find((x) => x.index === (s.display ?? 0));
  if (s.region) {
    const r = s.region;
    return `A region of ${r.width}×${r.height} at ${r.x},${r.y}`;
  }
  if (!screen) return `Display ${(s.display ?? 0) + 1}`;
  return `${screen.name}, the whole screen (${screen.width}×${screen.height})`;
}

function option(value: string, label: string, selected: boolean): HTMLOptionElement {
  const o = document.createElement("option");
  o.value = value;
  o.textContent = label;
  o.selected = selected;
  return o;
}

// micChoices are the microphone select's options: the default, none, and
// every device (system-audio monitors too: recording one as the
// "microphone" is how two outputs are mixed).
function micOptions(sel: HTMLSelectElement, devices: AudioDevice[], current: string) {
  sel.replaceChildren(option("", "Default microphone", current === ""), option("none", "No microphone", current === "none"));
  for (const d of devices) sel.append(option(d.id, d.name, current === d.id));
  if (current && current !== "none" && !devices.some((d) => d.id === current)) {
    sel.append(option(current, `${current} (not connected)`, true));
  }
}

function systemOptions(sel: HTMLSelectElement, devices: AudioDevice[], on: boolean, device: string) {
  sel.replaceChildren(option("off", "Off", !on), option("", "What this computer plays", on && device === ""));
  for (const d of devices) sel.append(option(d.id, d.name, on && device === d.id));
}

export interface Picker {
  open(): Promise<void>;
  close(): Promise<void>;
  isOpen(): boolean;
}

// mountPicker renders the source picker into root. settings() is the
// window's current settings; save() saves a changed copy (and keeps it as
// the current one).
export function mountPicker(
  root: HTMLElement,
  backend: Backend,
  settings: () => Settings,
  save: (s: Settings) => Promise<void>,
): Picker {
  root.innerHTML = `
    <div class="picker" data-testid="picker" hidden>
      <p class="hint">Click a screen to record all of it, or drag on it to record a region.</p>
      <div class="screens" data-testid="screens"></div>
      <p class="selection" data-testid="selection"></p>
      <div class="audio">
        <label for="mic">Microphone</label>
        <select id="mic" data-testid="mic"></select>
        <div class="meter" data-testid="mic-meter"><div class="level"></div></div>
        <label for="system-audio">System audio</label>
        <select id="system-audio" data-testid="system-audio"></select>
        <div class="meter" data-testid="system-meter"><div class="level"></div></div>
      </div>
      <p class="status" role="status" data-testid="picker-status"></p>
    </div>`;
  const q = <T extends HTMLElement>(id: string) => root.querySelector<T>(`[data-testid=${id}]`)!;
  const panel = q("picker");
  const screensEl = q("screens");
  const selection = q("selection");
  const mic = q<HTMLSelectElement>("mic");
  const sys = q<HTMLSelectElement>("system-audio");
  const micLevel = q("mic-meter").querySelector<HTMLElement>(".level")!;
  const sysLevel = q("system-meter").querySelector<HTMLElement>(".level")!;
  const status = q("picker-status");
  let open = false;
  let list: SourceList = { screens: [], audio: { microphones: [], systemAudio: [] }, errors: [] };
  const thumbs = new Map<number, Thumbnail>();

  const say = (text: string, kind: "ok" | "error") => {
    status.textContent = text;
    status.dataset.kind = kind;
  };
  const persist = async (s: Settings) => {
    try {
      await save(s);
      say("", "ok");
    } catch (err) {
      say(`Could not save the choice: ${String(err)}`, "error");
    }
    renderScreens();
  };

  const renderScreens = () => {
    const s = settings();
    screensEl.replaceChildren();
    for (const scr of list.screens) {
      const card = document.createElement("figure");
      card.className = "screen";
      card.dataset.testid = "screen";
      card.dataset.index = String(scr.index);
      const chosen = (s.display ?? 0) === scr.index;
      card.classList.toggle("chosen", chosen && !s.region);
      const frame = document.createElement("div");
      frame.className = "frame";
      // Keyboard: Enter or Space picks the whole screen (a region needs
      // the mouse).
      frame.tabIndex = 0;
      frame.setAttribute("role", "button");
      frame.setAttribute("aria-label", `Record all of ${scr.name}`);
      frame.setAttribute("aria-pressed", String(chosen && !s.region));
      frame.addEventListener("keydown", (ev) => {
        if (ev.key !== "Enter" && ev.key !== " ") return;
        ev.preventDefault();
        void persist({ ...settings(), display: scr.index, region: null });
      });
      const img = document.createElement("img");
      img.alt = `${scr.name} right now`;
      img.draggable = false;
      img.dataset.testid = "thumbnail";
      const t = thumbs.get(scr.index);
      if (t) img.src = t.image;
      frame.style.aspectRatio = `${scr.width} / ${scr.height}`;
      const box = document.createElement("div");
      box.className = "region";
      box.dataset.testid = "region";
      box.hidden = true;
      const showBox = (f: { left: number; top: number; width: number; height: number } | null) => {
        box.hidden = !f;
        if (!f) return;
        box.style.left = `${f.left * 100}%`;
        box.style.top = `${f.top * 100}%`;
        box.style.width = `${f.width * 100}%`;
        box.style.height = `${f.height * 100}%`;
      };
      if (s.region) showBox(regionOnThumbnail(scr, s.region));
      frame.append(img, box);
      const cap = document.createElement("figcaption");
      cap.textContent = `${scr.name} · ${scr.width}×${scr.height}`;
      card.append(frame, cap);
      screensEl.append(card);

      let start: Point | null = null;
      const at = (ev: MouseEvent): Point => {
        const r = frame.getBoundingClientRect();
        return { x: ev.clientX - r.left, y: ev.clientY - r.top };
      };
      const moved = (ev: MouseEvent) => {
        if (!start) return;
        const r = frame.getBoundingClientRect();
        const p = at(ev);
        const reg = mapRegion(scr, r.width, r.height, start, p);
        showBox(reg ? regionOnThumbnail(scr, reg) : null);
      };
      const up = (ev: MouseEvent) => {
        window.removeEventListener("mousemove", moved);
        window.removeEventListener("mouseup", up);
        if (!start) return;
        const r = frame.getBoundingClientRect();
        const region = mapRegion(scr, r.width, r.height, start, at(ev));
        start = null;
        void persist({ ...settings(), display: scr.index, region });
      };
      frame.addEventListener("mousedown", (ev) => {
        ev.preventDefault();
        start = at(ev);
        window.addEventListener("mousemove", moved);
        window.addEventListener("mouseup", up);
      });
    }
    selection.textContent = `Records: ${describeSelection(s, list.screens)}`;
  };

  const renderAudio = () => {
    const s = settings();
    micOptions(mic, [...list.audio.microphones, ...list.audio.systemAudio], s.mic ?? "");
    systemOptions(sys, list.audio.systemAudio, !!s.systemAudio, s.systemAudioDevice ?? "");
  };
  const audioChoice = () => {
    const s = settings();
    return { mic: s.mic ?? "", systemAudio: !!s.systemAudio, systemAudioDevice: s.systemAudioDevice ?? "" };
  };
  mic.addEventListener("change", async () => {
    await persist({ ...settings(), mic: mic.value });
    await backend.setPickerAudio(audioChoice());
  });
  sys.addEventListener("change", async () => {
    const on = sys.value !== "off";
    await persist({ ...settings(), systemAudio: on, systemAudioDevice: on ? sys.value : "" });
    await backend.setPickerAudio(audioChoice());
  });

  backend.on("sources:list", (l: SourceList) => {
    list = l;
    renderScreens();
    renderAudio();
    if (l.errors?.length) say(l.errors.join(" "), "error");
  });
  backend.on("sources:thumbnail", (t: Thumbnail) => {
    thumbs.set(t.index, t);
    const img = screensEl.querySelector<HTMLImageElement>(`[data-index="${t.index}"] img`);
    if (img) img.src = t.image;
  });
  backend.on("sources:levels", (l: Levels) => {
    micLevel.style.width = `${meterPercent(l.micDb)}%`;
    sysLevel.style.width = `${meterPercent(l.systemDb)}%`;
    micLevel.parentElement!.dataset.level = String(meterPercent(l.micDb));
    sysLevel.parentElement!.dataset.level = String(meterPercent(l.systemDb));
  });
  backend.on("sources:error", (m: string) => say(m, "error"));

  return {
    isOpen: () => open,
    open: async () => {
      if (open) return;
      open = true;
      panel.hidden = false;
      renderScreens();
      renderAudio();
      try {
        await backend.openPicker();
      } catch (err) {
        say(`The preview could not start: ${String(err)}`, "error");
      }
    },
    close: async () => {
      if (!open) return;
      open = false;
      panel.hidden = true;
      micLevel.style.width = "0%";
      sysLevel.style.width = "0%";
      await backend.closePicker();
    },
  };
}
