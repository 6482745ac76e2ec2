// The Go methods bound by Wails appear under window.go.main.App, and its
// events under window.runtime. Keeping the whole surface in one typed
// interface lets the UI run (and be tested) against any implementation.

export interface Region {
  x: number;
  y: number;
  width: number;
  height: number;
}

// Settings mirror settings.Settings on the Go side; the window always
// saves the whole object it got, changed, so nothing is dropped.
export interface Settings {
  serverURL: string;
  hotkey?: string;
  display?: number;
  region?: Region | null;
  mic?: string; // "" default microphone, "none", or a device id
  systemAudio?: boolean;
  systemAudioDevice?: string;
  maxHeight?: number; // 0 → 1080, -1 → the screen's own
  fps?: number; // 0 → 30
  startAtLogin?: boolean;
  tracking?: "" | "full" | "anonymous" | "off";
  theme?: "" | "system" | "light" | "dark";
}

// Screen is one monitor in desktop pixels (sources.Screen).
export interface Screen {
  index: number;
  name: string;
  x: number;
  y: number;
  width: number;
  height: number;
  primary: boolean;
}

export interface AudioDevice {
  id: string;
  name: string;
  default: boolean;
}

export interface SourceList {
  screens: Screen[];
  audio: { microphones: AudioDevice[]; systemAudio: AudioDevice[] };
  errors: string[];
}

export interface Thumbnail {
  index: number;
  image: string; // data URL
  width: number;
  height: number;
}

export interface Levels {
  micDb: number;
  systemDb: number;
}

export interface PickerAudio {
  mic: string;
  systemAudio: boolean;
  systemAudioDevice: string;
}

// ImportProgress is importer progress: the phase and how far it is (0..1).
export interface ImportProgress {
  file: string;
  phase: "probing" | "segmenting" | "queueing" | "done";
  progress: number;
  recording?: string;
  message?: string;
}

// Recording is one library entry (studio.Recording on the Go side).
export interface Recording {
  id: string;
  title: string;
  createdAt: number; // Unix milliseconds
  seconds: number;
  state: "recording" | "waiting" | "uploading" | "uploaded" | "failed";
  segments: number;
  uploaded: number;
  progress: number; // 0..1
  shareURL: string;
  error: string;
  localCopy: boolean;
  kind?: "recording" | "import";
  thumbnail?: string; // a data URL, once made
  onServer?: boolean; // the server has made the video (it can be sent by e-mail)
}

export interface Stats {
  elapsed: number;
  fps: number;
  dropped: number;
  segments: number;
  micDb: number;
  systemDb: number;
  state: string;
}

export interface Outcome {
  recording: string;
  title: string;
  shareURL?: string;
  offline: boolean;
  message: string;
  seconds: number;
}

// Events the Go side emits (see desktop/app.go).
export type EventName =
  | "recording:state"
  | "recording:stats"
  | "recording:stopped"
  | "recording:error"
  | "library:changed"
  | "upload:progress"
  | "app:warning"
  | "signin:code"
  | "signin:done"
  | "signin:error"
  | "sources:list"
  | "sources:thumbnail"
  | "sources:levels"
  | "sources:error"
  | "import:progress"
  | "import:error"
  | "send:done"
  | "send:error";

export interface SignInCode {
  userCode: string;
  url: string;
}

export interface Backend {
  version(): Promise<string>;
  getSettings(): Promise<Settings>;
  saveSettings(s: Settings): Promise<void>;
  hasDeviceToken(): Promise<boolean>;
  saveDeviceToken(token: string): Promise<void>;
  warnings(): Promise<string[]>;
  recordingState(): Promise<string>;
  startRecording(): Promise<void>;
  stopRecording(): Promise<void>;
  togglePause(): Promise<boolean>;
  cancelRecording(): Promise<void>;
  listRecordings(): Promise<Recording[]>;
  copyLink(url: string): Promise<void>;
  openLink(url: string): Promise<void>;
  deleteLocal(id: string): Promise<void>;
  retry(id: string): Promise<void>;
  signIn(): Promise<void>;
  cancelSignIn(): Promise<void>;
  openPicker(): Promise<void>;
  setPickerAudio(a: PickerAudio): Promise<void>;
  closePicker(): Promise<void>;
  // importVideo asks for a file and imports it; "" when the user
  // cancelled. Progress comes as import:progress events.
  importVideo(): Promise<string>;
  // sendVideo asks the server to mail an uploaded recording; the result
  // comes as send:done (Sent) or send:error ({recording, message}).
  sendVideo(id: string, recipients: string[], note: string): Promise<void>;
  on(event: EventName, cb: (...data: any[]) => void): void;
}

interface WailsApp {
  Version(): Promise<string>;
  GetSettings(): Promise<Settings>;
  SaveSettings(s: Settings): Promise<void>;
  HasDeviceToken(): Promise<boolean>;
  SaveDeviceToken(token: string): Promise<void>;
  Warnings(): Promise<string[] | null>;
  RecordingState(): Promise<string>;
  StartRecording(): Promise<void>;
  StopRecording(): Promise<void>;
  TogglePause(): Promise<boolean>;
  CancelRecording(): Promise<void>;
  ListRecordings(): Promise<Recording[] | null>;
  CopyLink(url: string): Promise<void>;
  OpenLink(url: string): Promise<void>;
  DeleteLocal(id: string): Promise<void>;
  Retry(id: string): Promise<void>;
  SignIn(): Promise<void>;
  CancelSignIn(): Promise<void>;
  OpenPicker(): Promise<void>;
  SetPickerAudio(a: PickerAudio): Promise<void>;
  ClosePicker(): Promise<void>;
  ImportVideo(): Promise<string>;
  SendVideo(id: string, recipients: string[], note: string): Promise<void>;
}

interface WailsRuntime {
  EventsOn(name: string, cb: (...data: any[]) => void): () => void;
}

declare global {
  interface Window {
    go?: { main?: { App?: WailsApp } };
    runtime?: WailsRuntime;
  }
}

// wailsBackend returns the bound Go app, or undefined when the page runs
// outside Wails (a plain browser during development).
export function wailsBackend(): Backend | undefined {
  const app = window.go?.main?.App;
  if (!app) return undefined;
  return {
    version: () => app.Version(),
    getSettings: () => app.GetSettings(),
    saveSettings: (s) => app.SaveSettings(s),
    hasDeviceToken: () => app.HasDeviceToken(),
    saveDeviceToken: (t) => app.SaveDeviceToken(t),
    warnings: async () => (await app.Warnings()) ?? [],
    recordingState: () => app.RecordingState(),
    startRecording: () => app.StartRecording(),
    stopRecording: () => app.StopRecording(),
    togglePause: () => app.TogglePause(),
    cancelRecording: () => app.CancelRecording(),
    listRecordings: async () => (await app.ListRecordings()) ?? [],
    copyLink: (u) => app.CopyLink(u),
    openLink: (u) => app.OpenLink(u),
    deleteLocal: (id) => app.DeleteLocal(id),
    retry: (id) => app.Retry(id),
    signIn: () => app.SignIn(),
    cancelSignIn: () => app.CancelSignIn(),
    openPicker: () => app.OpenPicker(),
    setPickerAudio: (a) => app.SetPickerAudio(a),
    closePicker: () => app.ClosePicker(),
    importVideo: () => app.ImportVideo(),
    sendVideo: (id, r, n) => app.SendVideo(id, r, n),
    on: (name, cb) => {
      window.runtime?.EventsOn(name, cb);
    },
  };
}

// validateServerURL returns an error sentence, or "" when the URL is usable.
export function validateServerURL(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return "Enter the full server address, for example https://framecast.example.com";
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    return "The server address must start with http:// or https://";
  }
  if (u.search || u.hash) {
    return "The server address cannot contain ? or #";
  }
  return "";
}
