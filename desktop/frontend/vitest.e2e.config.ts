import { defineConfig } from 'vitest/config'

// The end-to-end test: Playwright (playwright-core, Debian's chromium) driving the app served
// by `wails dev`. It is started by the Go test desktop/app/e2e_test.go, which brings up the
// real server, database and keyring and passes their addresses in the environment.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['e2e/**/*.e2e.ts'],
    testTimeout: 240_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
})
