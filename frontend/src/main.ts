import "./style.css";
import { mount } from "./app";
import { Backend, Settings, wailsBackend } from "./backend";

// Outside Wails (vite dev in a browser) the UI runs on an in-memory backend
// so it can be worked on without the Go side.
function browserBackend(): Backend {
  let settings: Settings = { serverURL: "http://127.0.0.1:8080" };
  const fail = async () => {
    throw new Error("recording needs the desktop app");
  };
  return {
    version: async () => "browser preview",
    getSettings: async () => settings,
    saveSettings: async (s) => {
      settings = s;
    },
    hasDeviceToken: async () => false,
    saveDeviceToken: fail,
    warnings: async () => [],
    recordingState: async () => "idle",
    startRecording: fail,
    stopRecording: fail,
    togglePause: fail,
    cancelRecording: fail,
    listRecordings: async () => [],
    copyLink: fail,
    openLink: fail,
    deleteLocal: fail,
    retry: fail,
    signIn: fail,
    cancelSignIn: async () => {},
    openPicker: async () => {},
    setPickerAudio: async () => {},
    closePicker: async () => {},
    importVideo: fail,
    sendVideo: fail,
    on: () => {},
  };
}

const root = document.getElementById("app")!;
mount(root, wailsBackend() ?? browserBackend()).catch((err) => {
  root.textContent = `Framecast could not start: ${String(err)}`;
  root.dataset.ready = "error";
});
