import { defineConfig } from 'vitest/config'
import react from '@vitejs/plugin-react'

// Component tests: jsdom, with the generated Wails bindings mocked (src/test/setup.ts).
export default defineConfig({
  plugins: [react()],
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['src/test/setup.ts'],
    include: ['src/**/*.test.tsx', 'src/**/*.test.ts'],
    restoreMocks: true,
    testTimeout: 20_000, // above the 5 s ceiling of each wait (src/test/setup.ts)
  },
})
