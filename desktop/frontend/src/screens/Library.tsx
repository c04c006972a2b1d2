import { useState } from 'react'
import { api, type LibraryGame, type Report } from '../api'
import { Cover, type Image } from '../components/media'
import { Dialog, LoadError, Notice, ProgressBar, Spinner } from '../components/ui'
import { bytes, eta, percent, rate, when } from '../format'
import { useAction, useAsync, useEvent, useReady } from '../hooks'
import { failureAdvice, useLibrary } from '../library'
import { useNav } from '../route'

/** The library: the download queue, then every owned or installed game. */
export default function Library() {
  const lib = useLibrary()
  const nav = useNav()
  const refresh = useAction()
  // The covers, from the store (offline or for an unlisted game, the coloured tile).
  const store = useAsync(() => api.games(), [])
  const covers = new Map(store.data?.games.map((g) => [g.slug, g.cover]))
  useReady('library', !!lib.view)

  if (!lib.view) {
    return lib.error ? <LoadError what="your library" error={lib.error} retry={lib.reload} /> : <Spinner label="Loading your library…" />
  }
  const games = lib.view.games
  return (
    <div className="library">
      <header className="page-head">
        <h1>Library</h1>
        <button type="button" className="btn" disabled={refresh.busy} onClick={() => refresh.run(lib.refresh)}>
          {refresh.busy ? 'Checking…' : 'Check for updates'}
        </button>
      </header>
      {refresh.error && (
        <Notice tone="error" title="Could not reach the server">
          {refresh.error}. Showing what is on this computer.
        </Notice>
      )}
      {lib.jobs.length > 0 && (
        <section aria-labelledby="downloads" className="downloads">
          <h2 id="downloads">Downloads</h2>
          <ul className="plain">
            {lib.jobs.map((g) => (
              <DownloadRow key={g.entry.slug} game={g} />
            ))}
          </ul>
        </section>
      )}
      {games.length === 0 ? (
        <div className="empty">
          <p>Your library is empty. Games you buy or get for free appear here.</p>
          <button type="button" className="btn primary" onClick={() => nav.go({ name: 'store' })}>
            Browse the store
          </button>
        </div>
      ) : (
        <section aria-labelledby="games">
          <h2 id="games">Games</h2>
          <ul className="plain game-list">
            {games.map((g) => (
              <GameRow key={g.entry.slug} game={lib.game(g.entry.slug) ?? g} cover={covers.get(g.entry.slug)} />
            ))}
          </ul>
        </section>
      )}
    </div>
  )
}

const phaseText: Record<string, string> = {
  queued: 'Queued',
  downloading: 'Downloading',
  extracting: 'Unpacking and checking',
  switching: 'Finishing',
  done: 'Installed',
  failed: 'Failed',
}

/**
 * What an install or update downloads, of the whole build: "Update 1.2.0: 14 MiB of 1.1 GiB",
 * or "Update 1.2.0: 1.1 GiB" when it downloads the whole build.
 */
export function sizeLine(what: string, version: string | undefined, fetch: number, build: number): string {
  return `${what} ${version ?? ''}: ${fetch < build ? `${bytes(fetch)} of ${bytes(build)}` : bytes(build)}`
}

/**
 * One install of the queue: progress, rate, time left, and pause / resume / cancel. A paused
 * install shows where it stopped (its size's bytes done); an update that fetches only what
 * changed says how much of the whole build that is.
 */
export function DownloadRow({ game }: { game: LibraryGame }) {
  const act = useAction()
  const p = game.job
  const size = p ? undefined : game.size
  const slug = game.entry.slug
  const title = game.entry.title || slug
  const done = p ? p.done : size?.done_bytes ?? 0
  const total = p ? p.total : size?.fetch_bytes ?? 0
  const pct = percent(done, total)
  const version = p?.version ?? game.entry.installing
  const update = p?.build_size ? sizeLine('Update', version, p.total, p.build_size) : size?.update ? sizeLine('Update', version, size.fetch_bytes, size.build_size) : ''
  return (
    <li className="download">
      <div className="download-head">
        <strong>{title}</strong>
        <span className="muted">{update || version}</span>
        <span className="download-state">{game.paused ? 'Paused' : p ? phaseText[p.phase] ?? p.phase : ''}</span>
      </div>
      <ProgressBar value={pct} label={`${title} download`} indeterminate={!game.paused && p?.phase === 'queued'} />
      <div className="download-foot">
        <span>
          {pct}%{total ? ` · ${bytes(done)} of ${bytes(total)}` : ''}
          {p?.phase === 'downloading' && p.bytes_per_second ? ` · ${rate(p.bytes_per_second)} · ${eta(p.eta)}` : ''}
        </span>
        <span className="row">
          {game.paused ? (
            <button type="button" className="btn small primary" onClick={() => act.run(() => api.install(slug))}>
              Resume
            </button>
          ) : (
            <button type="button" className="btn small" onClick={() => act.run(() => api.pause(slug))}>
              Pause
            </button>
          )}
          <button type="button" className="btn small danger" onClick={() => act.run(() => api.cancelInstall(slug))}>
            Cancel
          </button>
        </span>
      </div>
      {act.error && <Notice tone="error">{act.error}</Notice>}
    </li>
  )
}

const statusText: Record<string, string> = {
  installed: 'Installed',
  'update available': 'Update available',
  'not installed': 'Not installed',
  installing: 'Installing',
  'no release yet': 'No release yet',
}

/** One game of the library with everything a player can do to it. */
export function GameRow({ game, cover }: { game: LibraryGame; cover?: Image }) {
  const lib = useLibrary()
  const nav = useNav()
  const act = useAction()
  const [report, setReport] = useState<{ report: Report; repair: boolean }>()
  const [verifying, setVerifying] = useState<{ done: number; total: number }>()
  const [confirmUninstall, setConfirmUninstall] = useState(false)
  const e = game.entry
  const slug = e.slug
  const failure = lib.failures[slug]
  const note = lib.notes[slug]
  useEvent('verify', (p) => p.slug === slug && setVerifying({ done: p.done, total: p.total }))

  const verify = (repair: boolean) =>
    act.run(async () => {
      setVerifying({ done: 0, total: 0 })
      try {
        setReport({ report: await api.verify(slug, repair), repair })
      } finally {
        setVerifying(undefined)
      }
    })
  const busy = act.busy || !!game.job
  const autoMode = e.auto_update ? 'on' : 'off'

  return (
    <li className="game-row" aria-label={e.title || slug}>
      <div className="game-row-main">
        <Cover slug={slug} title={e.title || slug} image={cover} />
        <button type="button" className="btn link title" onClick={() => nav.go({ name: 'game', slug })}>
          {e.title || slug}
        </button>
        <span className={`chip ${e.status === 'update available' ? 'accent' : e.status === 'installed' ? 'ok' : ''}`}>
          {game.running ? 'Playing' : game.paused ? 'Paused' : statusText[e.status] ?? e.status}
        </span>
        <span className="muted small">
          {e.installed ? `v${e.installed}` : ''}
          {e.status === 'update available' && e.latest ? ` → v${e.latest}` : ''}
          {e.guest ? ' · bought as a guest: claim its receipt in Account' : !e.owned ? ' · no longer in your library' : ''}
        </span>
        {e.status === 'update available' && !game.job && game.size && (
          <span className="muted small">{sizeLine('Update', game.size.version, game.size.fetch_bytes, game.size.build_size)}</span>
        )}
        <span className="grow" />
        {game.running ? (
          <button type="button" className="btn" onClick={() => act.run(() => api.stopGame(slug))}>
            Quit
          </button>
        ) : e.installed ? (
          <button type="button" className="btn primary" disabled={act.busy} onClick={() => act.run(() => api.play(slug))}>
            ▶ Play
          </button>
        ) : null}
        {!game.job && !game.paused && e.owned && (e.status === 'not installed' || e.status === 'update available') && (
          <button type="button" className="btn" disabled={act.busy} onClick={() => act.run(() => api.install(slug))}>
            {e.status === 'update available' ? 'Update' : 'Install'}
          </button>
        )}
      </div>
      {e.installed && (
        <div className="game-row-tools">
          <button type="button" className="btn small" disabled={busy || game.running} onClick={() => verify(false)}>
            Verify files
          </button>
          <button type="button" className="btn small" disabled={busy || game.running} onClick={() => verify(true)}>
            Repair
          </button>
          <button type="button" className="btn small" onClick={() => act.run(() => api.openFolder(slug))}>
            Open folder
          </button>
          <button type="button" className="btn small danger" disabled={busy || game.running} onClick={() => setConfirmUninstall(true)}>
            Uninstall
          </button>
          <label className="inline-field">
            Auto-update
            <select
              value={autoMode}
              onChange={(ev) => act.run(async () => {
                await api.setGameAutoUpdate(slug, ev.target.value as 'on' | 'off')
                lib.reload()
              })}
            >
              <option value="on">On</option>
              <option value="off">Off</option>
            </select>
          </label>
          {e.last_run && (
            <>
              <span className="muted small">Last played {when(e.last_run.started_at)}</span>
              <button type="button" className="btn small link" onClick={() => act.run(() => api.openLaunchLog(slug))}>
                Launch log
              </button>
            </>
          )}
        </div>
      )}
      {verifying && (
        <div className="verify-progress">
          <span className="small">Checking files…</span>
          <ProgressBar value={percent(verifying.done, verifying.total)} label={`Checking ${e.title || slug}`} indeterminate={!verifying.total} />
        </div>
      )}
      {act.error && <Notice tone="error">{act.error}</Notice>}
      {failure && (
        <Notice
          tone="error"
          title={failure.problem === 'verify' ? 'The download was damaged' : failure.problem === 'disk-space' ? 'Not enough disk space' : failure.problem === 'offline' ? 'The server is unreachable' : 'The install failed'}
          action={
            <span className="row">
              {failure.problem === 'disk-space' && (
                <button type="button" className="btn" onClick={() => nav.go({ name: 'settings' })}>
                  Move library…
                </button>
              )}
              <button type="button" className="btn" onClick={() => act.run(async () => { lib.dismiss(slug); await api.install(slug) })}>
                Try again
              </button>
            </span>
          }
        >
          <p>{failureAdvice(failure.problem)}</p>
          <p className="muted small">{failure.message}</p>
        </Notice>
      )}
      {!failure && e.failed && (
        <Notice tone="warn" title={`Version ${e.failed.version} did not install or start`}>
          {e.failed.reason}
        </Notice>
      )}
      {note && (
        <Notice tone="info" title="Back to the previous version" action={<button type="button" className="btn small" onClick={() => lib.dismiss(slug)}>OK</button>}>
          {note}
        </Notice>
      )}
      {report && (
        <VerifyReport
          report={report.report}
          repair={report.repair}
          onClose={() => setReport(undefined)}
          onRepair={() => {
            setReport(undefined)
            void verify(true)
          }}
        />
      )}
      {confirmUninstall && (
        <Dialog title={`Uninstall ${e.title || slug}?`} onClose={() => setConfirmUninstall(false)}>
          <p>This deletes its files from this computer. It stays in your library, so you can install it again.</p>
          <div className="row end">
            <button type="button" className="btn" data-autofocus onClick={() => setConfirmUninstall(false)}>
              Keep it
            </button>
            <button
              type="button"
              className="btn danger"
              onClick={() => {
                setConfirmUninstall(false)
                void act.run(() => api.uninstall(slug))
              }}
            >
              Uninstall
            </button>
          </div>
        </Dialog>
      )}
    </li>
  )
}

/** What is wrong with a damaged file, in words (install.Issue's problem). */
export function problemText(problem: string): string {
  switch (problem) {
    case 'missing':
      return 'missing: the file is not there any more'
    case 'not a regular file':
      return 'not a file any more: a folder or a link is in its place'
    case 'size':
      return 'the wrong size: it was changed or cut short'
    case 'sha256':
      return 'different content: it was changed or is corrupted'
    case 'not executable':
      return 'no longer executable, so the game cannot start it'
    default:
      return problem
  }
}

/** What a verify or repair found; after a verify that found damage, a Repair button. */
export function VerifyReport({
  report,
  repair,
  onClose,
  onRepair,
}: {
  report: Report
  repair: boolean
  onClose: () => void
  onRepair: () => void
}) {
  const damaged = report.damaged ?? []
  const repaired = report.repaired ?? []
  const ok = damaged.length === repaired.length
  return (
    <Dialog title={repair ? 'Repair report' : 'Verify report'} onClose={onClose} wide>
      {damaged.length === 0 ? (
        <Notice tone="ok" title="All files are intact">
          Checked {report.checked} files of version {report.version}.
        </Notice>
      ) : (
        <Notice tone={ok ? 'ok' : 'warn'} title={ok ? `Repaired ${repaired.length} of ${damaged.length} damaged files` : `${damaged.length} damaged files`}>
          Checked {report.checked} files of version {report.version}
          {report.fetched_bytes ? `; downloaded ${bytes(report.fetched_bytes)}` : ''}.
          {!ok && ' Repair downloads only the damaged files again.'}
        </Notice>
      )}
      {damaged.length > 0 && (
        <ul className="report-list">
          {damaged.map((d) => (
            <li key={d.path}>
              <code>{d.path}</code> — {problemText(d.problem)}
              {repaired.includes(d.path) ? <span className="chip ok">repaired</span> : null}
            </li>
          ))}
        </ul>
      )}
      {(report.extra ?? []).length > 0 && (
        <p className="muted small">Files the build does not have (left alone): {(report.extra ?? []).join(', ')}</p>
      )}
      <div className="row end">
        {!ok && (
          <button type="button" className="btn primary" onClick={onRepair}>
            Repair {damaged.length - repaired.length === 1 ? 'this file' : 'these files'}
          </button>
        )}
        <button type="button" className={`btn${ok ? ' primary' : ''}`} onClick={onClose}>
          {ok ? 'OK' : 'Close'}
        </button>
      </div>
    </Dialog>
  )
}
