// The library as every screen sees it: the bridge's local view, kept live by the engine's
// events (progress, installed, failures, launches), with the failures a player can act on.
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react'
import { api, errorText, type CoreEvent, type LibraryGame, type LibraryView, type Progress, type SyncStatus } from './api'
import { useEvent } from './hooks'

export interface InstallFailure {
  message: string
  /** offline, verify, disk-space, busy, moving, refused, other */
  problem: string
}

export interface LibraryState {
  view: LibraryView | undefined
  /**
   * The line to the server: the engine's latest sync event, else the loaded view's. An event
   * that arrives before the view has loaded is kept, not lost.
   */
  sync: SyncStatus | undefined
  error: string | undefined
  loading: boolean
  /** Failures of the last install of each game, by slug. */
  failures: Record<string, InstallFailure>
  /** What happened that a player should know (a rollback), by slug. */
  notes: Record<string, string>
  reload: () => void
  refresh: () => Promise<void>
  game: (slug: string) => LibraryGame | undefined
  /** The installs queued or under way, with their latest progress. */
  jobs: LibraryGame[]
  dismiss: (slug: string) => void
}

const Ctx = createContext<LibraryState | undefined>(undefined)

export function LibraryProvider({ children }: { children: ReactNode }) {
  const [view, setView] = useState<LibraryView>()
  const [error, setError] = useState<string>()
  const [loading, setLoading] = useState(true)
  const [progress, setProgress] = useState<Record<string, Progress>>({})
  const [failures, setFailures] = useState<Record<string, InstallFailure>>({})
  const [notes, setNotes] = useState<Record<string, string>>({})
  const [liveSync, setLiveSync] = useState<SyncStatus>()
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined)

  const load = useCallback(() => {
    api.library().then(
      (v) => {
        setView(v)
        setError(undefined)
        setLoading(false)
        // Progress of installs that are no longer running is stale.
        setProgress((p) => {
          const running = new Set(v.games.filter((g) => g.job).map((g) => g.entry.slug))
          return Object.fromEntries(Object.entries(p).filter(([slug]) => running.has(slug)))
        })
      },
      (e: unknown) => {
        setError(errorText(e))
        setLoading(false)
      },
    )
  }, [])
  const reload = useCallback(() => {
    clearTimeout(timer.current)
    timer.current = setTimeout(load, 80)
  }, [load])
  useEffect(() => {
    load()
    return () => clearTimeout(timer.current)
  }, [load])

  useEvent('core', (e: CoreEvent) => {
    const slug = e.slug ?? ''
    switch (e.kind) {
      case 'progress':
        if (e.progress) {
          const p = e.progress
          setProgress((all) => ({ ...all, [slug]: p }))
          if (p.phase === 'queued' || p.phase === 'done' || p.phase === 'failed') reload()
        }
        return
      case 'installed':
        setFailures(({ [slug]: _, ...rest }) => rest)
        reload()
        return
      case 'install-failed':
        if (e.problem !== 'cancelled') {
          setFailures((all) => ({ ...all, [slug]: { message: e.message ?? 'the install failed', problem: e.problem ?? 'other' } }))
        }
        reload()
        return
      case 'rolled-back':
        setNotes((all) => ({ ...all, [slug]: e.message ?? '' }))
        reload()
        return
      case 'sync':
        if (e.sync) setLiveSync(e.sync)
        return
      default:
        reload()
    }
  })
  useEvent('session', () => {
    setFailures({})
    setNotes({})
    reload()
  })

  const value = useMemo<LibraryState>(() => {
    const merge = (g: LibraryGame): LibraryGame => {
      const p = progress[g.entry.slug]
      if (!p || !g.job) return g
      return { ...g, job: p }
    }
    return {
      view,
      sync: liveSync ?? view?.sync,
      error,
      loading,
      failures,
      notes,
      reload,
      refresh: async () => {
        const v = await api.refreshLibrary()
        setView(v)
        if (v.error) throw new Error(v.error)
      },
      game: (slug) => {
        const g = view?.games.find((x) => x.entry.slug === slug)
        return g && merge(g)
      },
      jobs: (view?.games ?? []).filter((g) => g.job || g.paused).map(merge),
      dismiss: (slug) => {
        setFailures(({ [slug]: _, ...rest }) => rest)
        setNotes(({ [slug]: _, ...rest }) => rest)
      },
    }
  }, [view, liveSync, error, loading, failures, notes, progress, reload])

  return <Ctx.Provider value={value}>{children}</Ctx.Provider>
}

export function useLibrary(): LibraryState {
  const v = useContext(Ctx)
  if (!v) throw new Error('useLibrary outside LibraryProvider')
  return v
}

/** What a player can do about an install failure, in words. */
export function failureAdvice(problem: string): string {
  switch (problem) {
    case 'offline':
      return 'The Satchel server cannot be reached. Check your connection, then try again; installed games still play offline.'
    case 'verify':
      return 'The download did not match what the developer published, so it was thrown away. Try again; if it keeps happening, tell the developer.'
    case 'disk-space':
      return 'There is not enough free disk space. Free some space, or move the library to a larger disk in Settings.'
    case 'busy':
      return 'Another Satchel window or command is changing this game. Try again when it is done.'
    case 'moving':
      return 'The library is being moved. Installs resume once the move is finished.'
    case 'refused':
      return 'The server refused the download. Check that this identity owns the game (Account).'
    default:
      return ''
  }
}
