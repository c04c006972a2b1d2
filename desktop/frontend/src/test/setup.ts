// Component tests run against the generated Wails bindings, mocked: every bound method is a
// vi.fn (tests say what it answers), and the runtime's events go through a fake bus that
// tests drive with emit().
import '@testing-library/jest-dom/vitest'
import { cleanup, configure } from '@testing-library/react'
import { afterEach, vi } from 'vitest'
import { resetBus } from './bus'

vi.mock('../../wailsjs/go/app/App')
vi.mock('../../wailsjs/runtime/runtime', async () => {
  const bus = await import('./bus')
  return {
    EventsOn: bus.on,
    ClipboardSetText: vi.fn(async () => true),
    BrowserOpenURL: vi.fn(),
  }
})

// findBy* and waitFor wait for what the screen shows, up to this long: a ceiling for a loaded
// machine (CI's two cores run Go tests beside these), not a delay; a passing wait ends at once.
configure({ asyncUtilTimeout: 5000 })

afterEach(() => {
  cleanup()
  resetBus()
})
