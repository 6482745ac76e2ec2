import { describe, expect, it } from "vitest";
import { mount } from "./app";
import { Backend, Settings, validateServerURL } from "./backend";

function fakeBackend(initial: Settings) {
  const saved: Settings[] = [];
  const backend: Backend = {
    version: async () => "v-test",
    getSettings: async () => initial,
    saveSettings: async (s) => {
      saved.push(s);
    },
  };
  return { backend, saved };
}

async function submit(root: HTMLElement, url: string) {
  const input = root.querySelector<HTMLInputElement>("#server-url")!;
  input.value = url;
  root.querySelector("form")!.dispatchEvent(new Event("submit", { cancelable: true }));
  await new Promise((r) => setTimeout(r, 0));
}

describe("app shell", () => {
  it("shows the title, version, empty library and the current server", async () => {
    const root = document.createElement("div");
    await mount(root, fakeBackend({ serverURL: "http://127.0.0.1:8080" }).backend);
    expect(root.querySelector("h1")!.textContent).toBe("Framecast");
    expect(root.querySelector("[data-testid=version]")!.textContent).toBe("v-test");
    expect(root.querySelector("[data-testid=library-empty]")).not.toBeNull();
    expect(root.querySelector<HTMLInputElement>("#server-url")!.value).toBe("http://127.0.0.1:8080");
    expect(root.dataset.ready).toBe("true");
  });

  it("saves a valid server address", async () => {
    const root = document.createElement("div");
    const { backend, saved } = fakeBackend({ serverURL: "" });
    await mount(root, backend);
    await submit(root, "  https://cast.example.com ");
    expect(saved).toEqual([{ serverURL: "https://cast.example.com" }]);
    expect(root.querySelector("[data-testid=settings-status]")!.textContent).toBe("Saved.");
  });

  it("refuses an invalid address without saving", async () => {
    const root = document.createElement("div");
    const { backend, saved } = fakeBackend({ serverURL: "" });
    await mount(root, backend);
    await submit(root, "ftp://example.com");
    expect(saved).toEqual([]);
    expect(root.querySelector("[data-testid=settings-status]")!.textContent).toMatch(/http:\/\/ or https:\/\//);
  });
});

it("stays hidden when the backend fails", async () => {
  const root = document.createElement("div");
  const backend: Backend = {
    version: async () => "v",
    getSettings: async () => {
      throw new Error("no Go side");
    },
    saveSettings: async () => {},
  };
  await expect(mount(root, backend)).rejects.toThrow("no Go side");
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
