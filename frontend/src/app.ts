import { Backend, validateServerURL } from "./backend";

// mount renders the app shell into root and wires it to the backend.
export async function mount(root: HTMLElement, backend: Backend): Promise<void> {
  root.innerHTML = `
    <header class="band" data-testid="band">
      <h1>Framecast</h1>
      <span class="version" data-testid="version"></span>
    </header>
    <main>
      <section class="record">
        <button class="record-button" data-testid="record" disabled title="Recording arrives in the next release">● Record</button>
      </section>
      <section class="library" aria-labelledby="library-title">
        <h2 id="library-title">Library</h2>
        <p class="empty" data-testid="library-empty">No recordings yet. Press Record to make your first one.</p>
      </section>
      <section class="settings" aria-labelledby="settings-title">
        <h2 id="settings-title">Settings</h2>
        <form data-testid="settings-form" novalidate>
          <label for="server-url">Server address</label>
          <input id="server-url" name="serverURL" type="url" autocomplete="url" spellcheck="false" />
          <button type="submit">Save</button>
          <p class="status" role="status" data-testid="settings-status"></p>
        </form>
      </section>
    </main>`;

  const version = root.querySelector<HTMLElement>("[data-testid=version]")!;
  const form = root.querySelector<HTMLFormElement>("[data-testid=settings-form]")!;
  const input = form.querySelector<HTMLInputElement>("#server-url")!;
  const status = root.querySelector<HTMLElement>("[data-testid=settings-status]")!;

  const [v, settings] = await Promise.all([backend.version(), backend.getSettings()]);
  version.textContent = v;
  input.value = settings.serverURL;
  // The shell stays hidden until the Go side has answered, so a visible
  // window means the app really works (the GUI smoke test relies on it).
  root.dataset.ready = "true";

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const problem = validateServerURL(input.value);
    if (problem) {
      status.textContent = problem;
      status.dataset.kind = "error";
      return;
    }
    try {
      await backend.saveSettings({ serverURL: input.value.trim() });
      status.textContent = "Saved.";
      status.dataset.kind = "ok";
    } catch (err) {
      status.textContent = `Could not save: ${String(err)}`;
      status.dataset.kind = "error";
    }
  });
}
