import { useEffect, useState } from 'react'
import { api, type MoveProgress } from '../api'
import { CopyField, Dialog, LoadError, Notice, ProgressBar, Spinner } from '../components/ui'
import { bytes, percent } from '../format'
import { useAction, useAsync, useEvent, useReady } from '../hooks'

/** Settings: server, library folder, download speed, auto-update, keeping downloads, identity export. */
export default function Settings() {
  const s = useAsync(api.settings, [])
  useReady('settings', !!s.data)
  if (!s.data) return s.error ? <LoadError what="the settings" error={s.error} retry={s.reload} /> : <Spinner />
  const set = s.data
  return (
    <div className="settings">
      <header className="page-head">
        <h1>Settings</h1>
      </header>
      <ServerSetting server={set.server} fixed={set.server_fixed} />
      <LibrarySetting folder={set.library} moving={set.moving} onMoved={s.reload} />
      <SpeedSetting limit={set.speed_limit} />
      <CheckSetting
        id="set-auto"
        title="Updates"
        label="Install new games and updates automatically (a game's own setting in the Library wins)"
        on={set.auto_update}
        save={api.setAutoUpdate}
      />
      <CheckSetting
        id="set-keep"
        title="Downloaded builds"
        label="Keep downloads: each installed version's zip stays in the library's .downloads folder"
        hint="Off, no zip stays after an install. Applies to the installs that start afterwards."
        on={set.keep_downloads}
        save={api.setKeepDownloads}
      />
      <ExportIdentity />
    </div>
  )
}

function ServerSetting({ server, fixed }: { server: string; fixed: boolean }) {
  const [url, setUrl] = useState(server)
  const act = useAction()
  const [saved, setSaved] = useState(false)
  return (
    <section className="panel" aria-labelledby="set-server">
      <h2 id="set-server">Server</h2>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault()
          setSaved(false)
          void act.run(async () => {
            await api.setServer(url)
            setSaved(true)
          })
        }}
      >
        <label className="grow">
          <span className="label">Backend URL</span>
          <input type="url" value={url} disabled={fixed} onChange={(e) => setUrl(e.target.value)} />
        </label>
        <button type="submit" className="btn" disabled={fixed || act.busy || url === server}>
          Save and reconnect
        </button>
      </form>
      {fixed && <p className="muted small">Set by SATCHEL_SERVER for this launcher.</p>}
      {saved && <Notice tone="ok">Connected to {url}.</Notice>}
      {act.error && <Notice tone="error">{act.error}</Notice>}
    </section>
  )
}

function LibrarySetting({ folder, moving, onMoved }: { folder: string; moving: boolean; onMoved: () => void }) {
  const [to, setTo] = useState('')
  const [progress, setProgress] = useState<MoveProgress | undefined>(moving ? { to: '', copied: 0, total: 0, finished: false } : undefined)
  const act = useAction()
  useEvent('move', (p) => {
    setProgress(p)
    if (p.finished && !p.error) {
      setTo('')
      onMoved()
    }
  })
  const running = !!progress && !progress.finished
  return (
    <section className="panel" aria-labelledby="set-library">
      <h2 id="set-library">Library folder</h2>
      <p>
        Games are installed in <code className="mono">{folder}</code>
      </p>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault()
          void act.run(async () => {
            setProgress({ to, copied: 0, total: 0, finished: false })
            await api.moveLibrary(to)
          })
        }}
      >
        <label className="grow">
          <span className="label">Move it to</span>
          <input type="text" placeholder="/path/to/a/folder" value={to} onChange={(e) => setTo(e.target.value)} />
        </label>
        <button
          type="button"
          className="btn"
          onClick={() => act.run(async () => {
            const dir = await api.chooseFolder('Move the library to')
            if (dir) setTo(dir)
          })}
        >
          Choose…
        </button>
        <button type="submit" className="btn primary" disabled={running || to.trim() === ''}>
          Move library
        </button>
      </form>
      {running && progress && (
        <div className="move-progress">
          <ProgressBar value={percent(progress.copied, progress.total)} label="Moving the library" indeterminate={!progress.total} />
          <span className="small">
            Moving… {progress.total ? `${bytes(progress.copied)} of ${bytes(progress.total)}` : ''}
          </span>
        </div>
      )}
      {progress?.finished && !progress.error && <Notice tone="ok">The library is now in {progress.to}.</Notice>}
      {progress?.error && <Notice tone="error" title="The move stopped">{progress.error} Moving again resumes it.</Notice>}
      {act.error && <Notice tone="error">{act.error}</Notice>}
    </section>
  )
}

function SpeedSetting({ limit }: { limit: number }) {
  const [kib, setKib] = useState(limit ? String(Math.round(limit / 1024)) : '')
  const act = useAction()
  const [saved, setSaved] = useState<string>()
  return (
    <section className="panel" aria-labelledby="set-speed">
      <h2 id="set-speed">Download speed</h2>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault()
          const n = kib.trim() === '' ? 0 : Number(kib)
          void act.run(async () => {
            if (!Number.isFinite(n) || n < 0) throw new Error('Give a speed in KiB/s, or leave it empty for no limit.')
            await api.setSpeedLimit(Math.round(n * 1024))
            setSaved(n ? `Downloads are limited to ${bytes(n * 1024)}/s.` : 'Downloads are not limited.')
          })
        }}
      >
        <label>
          <span className="label">Limit (KiB/s, empty for none)</span>
          <input type="number" min={0} inputMode="numeric" value={kib} onChange={(e) => setKib(e.target.value)} />
        </label>
        <button type="submit" className="btn" disabled={act.busy}>
          Apply
        </button>
      </form>
      <p className="muted small">Applies at once, also to downloads under way.</p>
      {saved && <Notice tone="ok">{saved}</Notice>}
      {act.error && <Notice tone="error">{act.error}</Notice>}
    </section>
  )
}

/** A setting that is on or off, saved as soon as it is ticked. */
function CheckSetting(props: {
  id: string
  title: string
  label: string
  hint?: string
  on: boolean
  save: (on: boolean) => Promise<void>
}) {
  const [value, setValue] = useState(props.on)
  const act = useAction()
  useEffect(() => setValue(props.on), [props.on])
  return (
    <section className="panel" aria-labelledby={props.id}>
      <h2 id={props.id}>{props.title}</h2>
      <label className="check">
        <input
          type="checkbox"
          checked={value}
          onChange={(e) => {
            const v = e.target.checked
            setValue(v)
            void act.run(() => props.save(v))
          }}
        />
        {props.label}
      </label>
      {props.hint && <p className="muted small">{props.hint}</p>}
      {act.error && <Notice tone="error">{act.error}</Notice>}
    </section>
  )
}

function ExportIdentity() {
  const [confirm, setConfirm] = useState(false)
  const [nsec, setNsec] = useState<string>()
  const act = useAction()
  return (
    <section className="panel" aria-labelledby="set-export">
      <h2 id="set-export">Back up your identity</h2>
      <p>Your secret key lives in the OS keyring. Export it to keep a backup or to use Satchel on another computer.</p>
      {nsec ? (
        <>
          <CopyField value={nsec} label="Your secret key (nsec)" />
          <button type="button" className="btn" onClick={() => setNsec(undefined)}>
            Hide it
          </button>
        </>
      ) : (
        <button type="button" className="btn" onClick={() => setConfirm(true)}>
          Export identity…
        </button>
      )}
      {act.error && <Notice tone="error">{act.error}</Notice>}
      {confirm && (
        <Dialog title="Show your secret key?" onClose={() => setConfirm(false)}>
          <p>
            Anyone who sees this key can act as you and use your library. Make sure nobody is looking at your screen, and
            keep the copy somewhere safe.
          </p>
          <div className="row end">
            <button type="button" className="btn" data-autofocus onClick={() => setConfirm(false)}>
              Cancel
            </button>
            <button
              type="button"
              className="btn danger"
              onClick={() => {
                setConfirm(false)
                void act.run(async () => setNsec(await api.exportIdentity()))
              }}
            >
              Show my secret key
            </button>
          </div>
        </Dialog>
      )}
    </section>
  )
}
