import { writeFileSync } from 'node:fs'
import { defineConfig } from 'vite'
import react from '@vitejs/plugin-react'

// dist/ is embedded in the Go binary (main.go: //go:embed all:frontend/dist); the empty
// .gitkeep keeps the embed pattern valid before the first build, so it is written back after
// every build empties the folder.
const keepDist = {
  name: 'satchel-keep-dist',
  closeBundle() {
    writeFileSync('dist/.gitkeep', '')
  },
}

export default defineConfig({
  plugins: [react(), keepDist],
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 400,
  },
})
