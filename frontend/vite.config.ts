import { defineConfig } from "vitest/config";

// The Go binary embeds desktop/dist (go:embed cannot reach outside its
// package folder), so Vite builds straight into it.
export default defineConfig({
  build: {
    outDir: "../desktop/dist/ui",
    emptyOutDir: true,
    target: "es2022",
  },
  test: {
    environment: "jsdom",
  },
});
