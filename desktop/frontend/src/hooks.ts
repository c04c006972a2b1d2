import { useCallback, useEffect, useRef, useState } from 'react'
import { api, errorText, onEvent, type Events, type SyncStatus } from './api'

export interface Async<T> {
  data: T | undefined
  error: string | undefined
  loading: boolean
  reload: () => void
  set: (data: T) => void
}

/**
 * Runs load when deps change (and on reload), keeping the last data while it reloads. With
 * initial data (the bridge's boot answers), the first load is skipped.
 */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[], initial?: T): Async<T> {
  const [data, setData] = useState<T | undefined>(initial)
  const [error, setError] = useState<string>()
  const [loading, setLoading] = useState(initial === undefined)
  const [tick, setTick] = useState(0)
  const loadRef = useRef(load)
  loadRef.current = load
  const skip = useRef(initial !== undefined)
  useEffect(() => {
    if (skip.current) {
      skip.current = false
      return
    }
    let live = true
    setLoading(true)
    loadRef.current().then(
      (d) => {
        if (!live) return
        setData(d)
        setError(undefined)
        setLoading(false)
      },
      (e: unknown) => {
        if (!live) return
        setError(errorText(e))
        setLoading(false)
      },
    )
    return () => {
      live = false
    }
  }, [...deps, tick])
  const reload = useCallback(() => setTick((t) => t + 1), [])
  return { data, error, loading, reload, set: setData }
}

/** Listens to an event of the bridge while the component is mounted. */
export function useEvent<K extends keyof Events>(name: K, handler: (data: Events[K]) => void): void {
  const ref = useRef(handler)
  ref.current = handler
  useEffect(() => onEvent(name, (d) => ref.current(d)), [name])
}

/** Tells the bridge, once, that a screen shows its data (tests and benchmarks wait for it). */
export function useReady(screen: string, shown: boolean): void {
  useEffect(() => {
    if (!shown) return
    const id = requestAnimationFrame(() => {
      void api.ready(screen)
    })
    return () => cancelAnimationFrame(id)
  }, [screen, shown])
}

/** An action's state: running, and its last error. */
export function useAction() {
  const [busy, setBusy] = useState(false)
  const [error, setError] = useState<string>()
  const run = useCallback(async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true)
    setError(undefined)
    try {
      return await fn()
    } catch (e) {
      setError(errorText(e))
      return undefined
    } finally {
      setBusy(false)
    }
  }, [])
  return { busy, error, run, clear: () => setError(undefined) }
}

/** The current time, updated every interval (for countdowns). */
export function useNow(intervalMs = 1000): number {
  const [now, setNow] = useState(() => Date.now())
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs)
    return () => clearInterval(id)
  }, [intervalMs])
  return now
}

/** Whether the line to the server is down: the library stream is closed, and why is known. */
export function isOffline(sync: SyncStatus | undefined): boolean {
  return !!sync?.last_error && !sync.connected
}

/**
 * Calls onBack when the line to the server comes back (the engine's sync events), so a screen
 * fetched while offline refreshes by itself. offline is whether it is down now, as the screen
 * knows it when it mounts.
 */
export function useReconnected(offline: boolean, onBack: () => void): void {
  const down = useRef(offline)
  useEvent('core', (e) => {
    if (e.kind !== 'sync' || !e.sync) return
    if (isOffline(e.sync)) down.current = true
    else if (e.sync.connected && down.current) {
      down.current = false
      onBack()
    }
  })
}
