import { useEffect, useRef, useState } from 'react'
import { api, type GameView, type LibraryGame } from '../api'
import { Cover, ScreenshotStrip } from '../components/media'
import { Dialog, LoadError, Markdown, Notice, ProgressBar, Spinner } from '../components/ui'
import { bytes, eta, percent, price, rate, sentence, when } from '../format'
import { useAction, useAsync, useEvent, useReady, useReconnected } from '../hooks'
import { failureAdvice, useLibrary } from '../library'
import { useNav } from '../route'
import Checkout from './Checkout'
import { sizeLine } from './Library'

/** A game's page: what it is, its latest version, and the button that fits the player. */
export default function GamePage({ slug, openCheckout }: { slug: string; openCheckout?: boolean }) {
  const nav = useNav()
  const view = useAsync(() => api.game(slug), [slug])
  const lib = useLibrary()
  const [checkout, setCheckout] = useState<{ guest: boolean }>()
  const autoOpened = useRef(false)
  useEvent('session', view.reload)
  useReconnected(!!view.error || !!view.data?.offline, view.reload)
  useEvent('core', (e) => {
    if (e.slug === slug && e.kind !== 'progress' && e.kind !== 'sync') view.reload()
  })
  useReady('game', !!view.data)
  useEffect(() => {
    if (openCheckout && view.data && !view.data.owned && !autoOpened.current) {
      autoOpened.current = true
      setCheckout({ guest: false })
    }
  }, [openCheckout, view.data])

  if (!view.data) {
    return view.error ? <LoadError what="this game" error={view.error} retry={view.reload} /> : <Spinner />
  }
  const v = view.data
  const g = v.game
  const latest = g.releases[0]
  return (
    <article className="game-page">
      <button type="button" className="btn link back" onClick={() => nav.go({ name: 'store' })}>
        ← Store
      </button>
      <header className="game-head">
        <Cover slug={g.slug} title={g.title} image={g.cover} />
        <div className="game-head-text">
          <h1>{g.title}</h1>
          <p className="summary">{g.summary}</p>
          {g.developer && <p className="muted">by {g.developer}</p>}
          <dl className="facts">
            {!v.offline && (
              <div>
                <dt>Price</dt>
                <dd className="price">{price(g.price_msat)}</dd>
              </div>
            )}
            <div>
              <dt>Latest version</dt>
              <dd>{g.latest ?? 'not released yet'}</dd>
            </div>
            {latest?.size ? (
              <div>
                <dt>Download</dt>
                <dd>
                  {bytes(latest.size)}
                  {latest.installed_bytes ? ` (${bytes(latest.installed_bytes)} installed)` : ''}
                </dd>
              </div>
            ) : null}
            {latest && (
              <div>
                <dt>Released</dt>
                <dd>{when(latest.published_at)}</dd>
              </div>
            )}
          </dl>
          <GameActions view={v} live={lib.game(slug)} onBuy={(guest) => setCheckout({ guest })} />
        </div>
      </header>
      <ScreenshotStrip title={g.title} shots={g.screenshots ?? []} />
      {v.offline ? (
        <Notice tone="info" title="Offline: this page shows what your library knows">
          {sentence(v.offline)} The store's page comes back by itself once the server answers.
        </Notice>
      ) : (
        <section className="description" aria-label="Description">
          <Markdown source={g.description_md} />
        </section>
      )}
      {g.releases.length > 0 && (
        <section aria-labelledby="releases">
          <h2 id="releases">Releases</h2>
          <ul className="plain release-list">
            {g.releases.map((r) => (
              <li key={r.version}>
                <h3>
                  {r.version} <span className="muted small">{when(r.published_at)}</span>
                </h3>
                {r.notes_md ? <Markdown source={r.notes_md} /> : <p className="muted">No notes.</p>}
              </li>
            ))}
          </ul>
        </section>
      )}
      {checkout && (
        <Dialog title={g.price_msat === 0 ? `Get ${g.title}` : `Buy ${g.title}`} onClose={() => setCheckout(undefined)}>
          <Checkout
            slug={g.slug}
            title={g.title}
            guest={checkout.guest}
            onClose={() => setCheckout(undefined)}
            onPaid={() => {
              view.reload()
              lib.reload()
            }}
          />
        </Dialog>
      )}
    </article>
  )
}

/** The buy / install / play button that fits the player's state. */
export function GameActions({ view, live, onBuy }: { view: GameView; live: LibraryGame | undefined; onBuy: (guest: boolean) => void }) {
  const nav = useNav()
  const lib = useLibrary()
  const act = useAction()
  const st = live ?? { entry: view.entry, job: view.job, paused: view.paused, running: view.running }
  const e = st.entry
  const g = view.game
  const slug = g.slug
  const failure = lib.failures[slug]
  const owned = live?.entry.owned ?? view.owned
  const installed = !!e?.installed

  let main
  if (st.running) {
    main = (
      <>
        <span className="chip ok">Playing</span>
        <button type="button" className="btn" onClick={() => act.run(() => api.stopGame(slug))}>
          Quit game
        </button>
      </>
    )
  } else if (st.job) {
    const p = st.job
    main = (
      <div className="inline-progress">
        <span>
          {p.phase === 'queued' ? 'Queued' : p.phase === 'downloading' ? 'Downloading' : 'Installing'} {p.version}{' '}
          {percent(p.done, p.total)}%
        </span>
        <ProgressBar value={percent(p.done, p.total)} label={`Installing ${g.title}`} indeterminate={p.phase !== 'downloading'} />
        <span className="muted small">
          {[rate(p.bytes_per_second), eta(p.eta)].filter(Boolean).join(' · ')}
        </span>
        <button type="button" className="btn small" onClick={() => act.run(() => api.pause(slug))}>
          Pause
        </button>
      </div>
    )
  } else if (st.paused) {
    main = (
      <button type="button" className="btn primary" onClick={() => act.run(() => api.install(slug))}>
        Resume download
      </button>
    )
  } else if (installed) {
    main = (
      <>
        <button type="button" className="btn primary big" onClick={() => act.run(() => api.play(slug))}>
          ▶ Play
        </button>
        {e?.status === 'update available' && (
          <button type="button" className="btn" onClick={() => act.run(() => api.install(slug))}>
            Update to {e.latest}
          </button>
        )}
        {e?.status === 'update available' && live?.size && (
          <span className="muted small">{sizeLine('Update', live.size.version, live.size.fetch_bytes, live.size.build_size)}</span>
        )}
      </>
    )
  } else if (owned) {
    main = g.latest ? (
      <button type="button" className="btn primary big" onClick={() => act.run(() => api.install(slug))}>
        Install
      </button>
    ) : (
      <span className="chip">Owned · not released yet</span>
    )
  } else if (!g.latest) {
    main = (
      <button type="button" className="btn big" disabled>
        Not released yet
      </button>
    )
  } else if (view.guest) {
    // Without an identity a purchase can only be a guest's: its receipt code claims it later.
    main = (
      <>
        <button type="button" className="btn primary big" onClick={() => onBuy(true)}>
          {g.price_msat === 0 ? 'Get it free as a guest' : `Buy as a guest for ${price(g.price_msat)}`}
        </button>
        <span className="muted small">Create an identity in Account to keep your games on every computer.</span>
      </>
    )
  } else {
    main = (
      <>
        <button type="button" className="btn primary big" onClick={() => onBuy(false)}>
          {g.price_msat === 0 ? 'Get it free' : `Buy for ${price(g.price_msat)}`}
        </button>
        <button type="button" className="btn" onClick={() => onBuy(true)}>
          Buy as a guest
        </button>
      </>
    )
  }
  return (
    <div className="game-actions">
      <div className="row">
        {main}
        {owned && (
          <button type="button" className="btn link" onClick={() => nav.go({ name: 'library' })}>
            In your library →
          </button>
        )}
      </div>
      {act.error && <Notice tone="error">{act.error}</Notice>}
      {e?.last_run?.error && e.last_run.tail?.length ? (
        <Notice
          tone="error"
          title={sentence(e.last_run.error)}
          action={
            <button type="button" className="btn" onClick={() => act.run(() => api.openLaunchLog(slug))}>
              Open the log
            </button>
          }
        >
          The last lines of its log:
          <pre className="log-tail">{e.last_run.tail.join('\n')}</pre>
        </Notice>
      ) : (
        e?.last_run &&
        installed && (
          <button type="button" className="btn link small" onClick={() => act.run(() => api.openLaunchLog(slug))}>
            Open the launch log
          </button>
        )
      )}
      {failure && (
        <Notice
          tone="error"
          title="The install failed"
          action={
            <button type="button" className="btn" onClick={() => act.run(() => api.install(slug))}>
              Try again
            </button>
          }
        >
          {failureAdvice(failure.problem) || failure.message}
        </Notice>
      )}
    </div>
  )
}
