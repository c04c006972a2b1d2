// What the first screen needs: the status and the store's first page. The bridge writes them
// into the page when it already has them (window.__satchelBoot, desktop/app/boot.go), so the
// first render is the store itself; otherwise they are asked for as soon as the script runs, in parallel,
// before React renders. Each answer is taken once; later loads ask the bridge again.
import { api, type GamePage, type Status } from './api'

interface Boot {
  status?: Status
  games?: GamePage
}

declare global {
  interface Window {
    __satchelBoot?: Boot
  }
}

const boot: Boot = {}
const pending = new Map<keyof Boot, Promise<unknown>>()

/** Takes the bridge's boot answers, and asks for what they lack (main.tsx). */
export function preload(): void {
  Object.assign(boot, window.__satchelBoot)
  if (!boot.status) pending.set('status', api.status())
  if (!boot.games) pending.set('games', api.games())
  for (const p of pending.values()) p.catch(() => {}) // handled where taken
}

/** The boot answer of key, the first time it is asked for; then undefined. */
export function takeBoot<K extends keyof Boot>(key: K): Boot[K] {
  const v = boot[key]
  delete boot[key]
  return v
}

/** The answer asked for at start of key, the first time; else fetch(). */
export function take<T>(key: keyof Boot, fetch: () => Promise<T>): Promise<T> {
  const p = pending.get(key)
  if (!p) return fetch()
  pending.delete(key)
  return p as Promise<T>
}
