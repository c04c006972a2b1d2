// The fake event bus behind the mocked Wails runtime.
import { act, waitFor } from '@testing-library/react'
import type { Events } from '../api'

type Handler = (data: unknown) => void
const handlers = new Map<string, Set<Handler>>()

export function on(name: string, h: Handler): () => void {
  let set = handlers.get(name)
  if (!set) handlers.set(name, (set = new Set()))
  set.add(h)
  return () => set.delete(h)
}

/** Sends an event of the bridge to the components listening. */
export function emit<K extends keyof Events>(name: K, data: Events[K]): void {
  act(() => {
    for (const h of handlers.get(name) ?? []) h(data)
  })
}

export function resetBus(): void {
  handlers.clear()
}

/**
 * Sends an event once a component listens to it. A screen subscribes in an effect, which React
 * may run after the screen is already in the DOM: an event sent right after the first render
 * can otherwise reach nobody.
 */
export async function emitHeard<K extends keyof Events>(name: K, data: Events[K]): Promise<void> {
  await waitFor(() => {
    if (!handlers.get(name)?.size) throw new Error(`nothing listens to ${name} yet`)
  })
  emit(name, data)
}
