// The Go methods bound by Wails appear under window.go.main.App. Keeping the
// whole surface in one typed interface lets the UI run (and be tested)
// against any implementation of it.

export interface Settings {
  serverURL: string;
}

export interface Backend {
  version(): Promise<string>;
  getSettings(): Promise<Settings>;
  saveSettings(s: Settings): Promise<void>;
}

interface WailsApp {
  Version(): Promise<string>;
  GetSettings(): Promise<Settings>;
  SaveSettings(s: Settings): Promise<void>;
}

declare global {
  interface Window {
    go?: { main?: { App?: WailsApp } };
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
