import { useEffect, useState } from 'react'
import { api, type BuildDiff, type DevGame, type DevRelease, type GameDraft, type UploadProgress } from '../api'
import { Cover } from '../components/media'
import { LoadError, Markdown, Notice, ProgressBar, Spinner } from '../components/ui'
import { bytes, eta, parseSats, percent, price, rate, sats, when } from '../format'
import { useAction, useAsync, useEvent, useReady, useReconnected } from '../hooks'
import { useNav } from '../route'

/** The Developer tab: become a developer, then manage games, releases, builds and sales. */
export default function Developer({ slug }: { slug?: string }) {
  const account = useAsync(api.account, [])
  const nav = useNav()
  useEvent('session', account.reload)
  useReconnected(!!account.error, account.reload)
  useReady('developer', (!!account.data && !account.data.developer) || !!account.error)
  if (!account.data) {
    if (!account.error) return <Spinner />
    if (/no identity/i.test(account.error)) {
      return (
        <div className="developer">
          <header className="page-head">
            <h1>Developer</h1>
          </header>
          <Notice
            tone="info"
            title="Sell your games on Satchel"
            action={
              <button type="button" className="btn primary" onClick={() => nav.go({ name: 'account' })}>
                Go to Account
              </button>
            }
          >
            Developers sign their games with their identity: create or import one first.
          </Notice>
        </div>
      )
    }
    return <LoadError what="your developer account" error={account.error} retry={account.reload} />
  }
  return (
    <div className="developer">
      <header className="page-head">
        <h1>Developer</h1>
        {account.data.developer && <Profile account={account.data} onDone={account.set} />}
      </header>
      {account.data.developer ? <Studio slug={slug} /> : <BecomeDeveloper onDone={account.set} />}
    </div>
  )
}

type AccountData = Awaited<ReturnType<typeof api.account>>

/** Where the developer is paid and the studio their games are shown "by", each changeable. */
function Profile({ account, onDone }: { account: AccountData; onDone: (a: AccountData) => void }) {
  const [editing, setEditing] = useState<'address' | 'studio'>()
  const [studio, setStudio] = useState(account.studio ?? '')
  const act = useAction()
  if (editing === 'address') {
    return (
      <div className="grow">
        <BecomeDeveloper
          change={account.payout_address}
          onDone={(a) => {
            onDone(a)
            setEditing(undefined)
          }}
          onCancel={() => setEditing(undefined)}
        />
      </div>
    )
  }
  if (editing === 'studio') {
    return (
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault()
          void act.run(async () => {
            onDone(await api.setStudio(studio))
            setEditing(undefined)
          })
        }}
      >
        <label>
          <span className="label">Studio name (your games show “by” it)</span>
          <input value={studio} maxLength={64} onChange={(e) => setStudio(e.target.value)} placeholder="Lantern Works" />
        </label>
        <button type="submit" className="btn primary" disabled={act.busy}>
          Save
        </button>
        <button type="button" className="btn" onClick={() => setEditing(undefined)}>
          Cancel
        </button>
        {act.error && <Notice tone="error">{act.error}</Notice>}
      </form>
    )
  }
  return (
    <span className="row small">
      <span className="muted">
        {account.studio ? `${account.studio} · ` : ''}Paid to ⚡ {account.payout_address}
      </span>
      <button type="button" className="btn link small" onClick={() => setEditing('address')}>
        Change address
      </button>
      <button type="button" className="btn link small" onClick={() => setEditing('studio')}>
        {account.studio ? 'Rename studio' : 'Set a studio name'}
      </button>
    </span>
  )
}

/** The Lightning Address form: to become a developer, or (change set) to change the address.
 * The server resolves the address before it takes it. */
function BecomeDeveloper({ onDone, change, onCancel }: { onDone: (a: AccountData) => void; change?: string; onCancel?: () => void }) {
  const [address, setAddress] = useState(change ?? '')
  const act = useAction()
  return (
    <section className="panel" aria-labelledby="become-dev">
      <h2 id="become-dev">{change ? 'Change your payout address' : 'Become a developer'}</h2>
      <p>
        {change
          ? 'Payouts of later sales go to the new address. It is checked now: it must answer as a Lightning Address and accept your share of a sale.'
          : "Sell your games for sats. Each sale, minus the platform's fee, is paid to your Lightning Address, right after the buyer pays."}
      </p>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault()
          void act.run(async () => onDone(await api.becomeDeveloper(address)))
        }}
      >
        <label className="grow">
          <span className="label">Your Lightning Address</span>
          <input type="email" placeholder="you@wallet.example" value={address} onChange={(e) => setAddress(e.target.value)} />
        </label>
        <button type="submit" className="btn primary" disabled={act.busy || !address.includes('@') || address.trim() === change}>
          {act.busy ? 'Checking the address…' : change ? 'Change address' : 'Become a developer'}
        </button>
        {onCancel && (
          <button type="button" className="btn" onClick={onCancel}>
            Cancel
          </button>
        )}
      </form>
      {act.error && <Notice tone="error" title="The address was not accepted">{act.error}</Notice>}
    </section>
  )
}

function Studio({ slug }: { slug?: string }) {
  const games = useAsync(api.myGames, [])
  const [selected, setSelected] = useState<string | 'new'>()
  useEffect(() => {
    const g = slug && games.data?.find((x) => x.slug === slug)
    if (g && selected === undefined) setSelected(g.id)
  }, [slug, games.data, selected])
  useEvent('session', games.reload)
  useReconnected(!!games.error, games.reload)
  useReady('developer', !!games.data || !!games.error)
  const list = games.data ?? []
  const current = selected === 'new' ? undefined : (list.find((g) => g.id === selected) ?? list[0])
  const creating = selected === 'new' || (games.data !== undefined && list.length === 0)

  if (!games.data) return games.error ? <LoadError what="your games" error={games.error} retry={games.reload} /> : <Spinner />
  return (
    <div className="studio">
      <nav className="studio-games" aria-label="Your games">
        <ul className="plain">
          {list.map((g) => (
            <li key={g.id}>
              <button
                type="button"
                className="nav-item"
                aria-current={!creating && current?.id === g.id ? 'true' : undefined}
                onClick={() => setSelected(g.id)}
              >
                <span>{g.title}</span>
                <span className={`chip small ${g.status === 'LISTED' || g.status === 'FEATURED' ? 'ok' : ''}`}>{g.status.toLowerCase()}</span>
              </button>
            </li>
          ))}
        </ul>
        <button type="button" className="btn" onClick={() => setSelected('new')}>
          + New game
        </button>
      </nav>
      <div className="studio-main">
        {creating ? (
          <section className="panel" aria-labelledby="new-game">
            <h2 id="new-game">New game</h2>
            <GameForm
              onSaved={(g) => {
                games.set([g, ...list])
                setSelected(g.id)
              }}
            />
          </section>
        ) : (
          current && <GameEditor key={current.id} game={current} onChanged={games.reload} />
        )}
      </div>
    </div>
  )
}

type Tab = 'details' | 'images' | 'releases' | 'money'

function GameEditor({ game, onChanged }: { game: DevGame; onChanged: () => void }) {
  const [tab, setTab] = useState<Tab>('releases')
  const tabs: { id: Tab; label: string }[] = [
    { id: 'releases', label: 'Releases' },
    { id: 'details', label: 'Details' },
    { id: 'images', label: 'Cover & screenshots' },
    { id: 'money', label: 'Sales & payouts' },
  ]
  return (
    <section className="panel" aria-labelledby="game-title">
      <header className="row">
        <h2 id="game-title" className="grow">
          {game.title} <span className="muted small">/{game.slug}</span>
        </h2>
        <span className="price">{price(game.price_msat)}</span>
      </header>
      <div role="tablist" className="tabs" aria-label={`${game.title} sections`}>
        {tabs.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`panel-${t.id}`}
            className="tab"
            onClick={() => setTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'details' && (
          <>
            <GameForm game={game} onSaved={onChanged} />
            <ListingStatus game={game} onSaved={onChanged} />
          </>
        )}
        {tab === 'releases' && <Releases game={game} onChanged={onChanged} />}
        {tab === 'images' && <Images game={game} onChanged={onChanged} />}
        {tab === 'money' && <Money game={game} />}
      </div>
    </section>
  )
}

/** Creates a game (without game) or edits one. */
/** The store's images of a game: its cover and up to 8 screenshots, each uploaded from a file
 * and checked by the server. */
export function Images({ game, onChanged }: { game: DevGame; onChanged: () => void }) {
  const act = useAction()
  const shots = game.screenshots ?? []
  const add = (cover: boolean) =>
    act.run(async () => {
      const path = await api.chooseImage(cover ? 'Choose the cover image' : 'Choose a screenshot')
      if (!path) return
      await api.uploadImage(game.id, cover, path)
      onChanged()
    })
  const remove = (id: string) =>
    act.run(async () => {
      await api.deleteImage(game.id, id)
      onChanged()
    })
  const hidden = game.status === 'DRAFT' || game.status === 'BANNED'
  return (
    <div className="images">
      <p className="muted small">
        PNG, JPEG or WebP, up to 10 MiB, 16 to 4096 pixels a side. The store shows the cover on the game's card and page, and the
        screenshots in that order on its page.{hidden ? ' Previews appear once the game is unlisted or listed.' : ''}
      </p>
      <h3>Cover</h3>
      <div className="media-grid">
        <figure>
          <Cover slug={game.slug} title={game.title} image={game.cover} />
          {game.cover && (
            <figcaption className="row small">
              {game.cover.width}×{game.cover.height}
              <button type="button" className="btn link small danger" disabled={act.busy} onClick={() => remove(game.cover!.id)}>
                Remove
              </button>
            </figcaption>
          )}
        </figure>
      </div>
      <button type="button" className="btn" disabled={act.busy} onClick={() => add(true)}>
        {game.cover ? 'Replace the cover…' : 'Choose a cover…'}
      </button>
      <h3>Screenshots ({shots.length} of 8)</h3>
      {shots.length > 0 && (
        <ul className="plain media-grid" aria-label="Screenshots">
          {shots.map((m, i) => (
            <li key={m.id}>
              <figure>
                <img src={m.url} alt={`Screenshot ${i + 1}`} loading="lazy" />
                <figcaption className="row small">
                  {m.width}×{m.height}
                  <button type="button" className="btn link small danger" disabled={act.busy} onClick={() => remove(m.id)}>
                    Remove
                  </button>
                </figcaption>
              </figure>
            </li>
          ))}
        </ul>
      )}
      <button type="button" className="btn" disabled={act.busy || shots.length >= 8} onClick={() => add(false)}>
        {act.busy ? 'Uploading…' : 'Add a screenshot…'}
      </button>
      {act.error && (
        <Notice tone="error" title="The image was not accepted">
          {act.error}
        </Notice>
      )}
    </div>
  )
}

export function GameForm({ game, onSaved }: { game?: DevGame; onSaved: (g: DevGame) => void }) {
  const [d, setD] = useState<GameDraft>({
    slug: game?.slug ?? '',
    title: game?.title ?? '',
    summary: game?.summary ?? '',
    description_md: game?.description_md ?? '',
    price_msat: game?.price_msat ?? 0,
  })
  const [priceSats, setPriceSats] = useState(String((game?.price_msat ?? 0) / 1000))
  const [preview, setPreview] = useState(false)
  const [saved, setSaved] = useState(false)
  const act = useAction()
  // A change answers the last error: it is about what the fields held then.
  const edited = () => {
    setSaved(false)
    act.clear()
  }
  const field = (k: keyof GameDraft) => (e: { target: { value: string } }) => {
    edited()
    setD({ ...d, [k]: e.target.value })
  }
  return (
    <form
      className="form"
      onSubmit={(e) => {
        e.preventDefault()
        void act.run(async () => {
          const draft = { ...d, price_msat: parseSats(priceSats) }
          onSaved(game ? await api.updateGame(game.id, draft) : await api.createGame(draft))
          setSaved(true)
        })
      }}
    >
      <div className="form-grid">
        <label>
          <span className="label">Slug (its address; cannot change later)</span>
          <input required pattern="[a-z0-9][a-z0-9-]*" value={d.slug} disabled={!!game} onChange={field('slug')} placeholder="my-game" />
        </label>
        <label>
          <span className="label">Title</span>
          <input required value={d.title} onChange={field('title')} />
        </label>
        <label>
          <span className="label">Price (sats, 0 for free)</span>
          <input
            type="text"
            inputMode="decimal"
            value={priceSats}
            onChange={(e) => {
              edited()
              setPriceSats(e.target.value)
            }}
          />
        </label>
      </div>
      <label>
        <span className="label">Summary (one line in the store)</span>
        <input value={d.summary} onChange={field('summary')} maxLength={280} />
      </label>
      <div className="md-editor">
        <div className="row">
          <span className="label grow">Description (Markdown)</span>
          <div role="tablist" className="tabs small" aria-label="Description">
            <button type="button" role="tab" className="tab" aria-selected={!preview} onClick={() => setPreview(false)}>
              Write
            </button>
            <button type="button" role="tab" className="tab" aria-selected={preview} onClick={() => setPreview(true)}>
              Preview
            </button>
          </div>
        </div>
        {preview ? (
          <div className="md-preview">
            <Markdown source={d.description_md || '*Nothing yet.*'} />
          </div>
        ) : (
          <textarea aria-label="Description (Markdown)" rows={8} value={d.description_md} onChange={field('description_md')} />
        )}
      </div>
      <div className="row">
        <button type="submit" className="btn primary" disabled={act.busy}>
          {game ? 'Save changes' : 'Create game'}
        </button>
        {saved && <span className="ok-text">Saved.</span>}
      </div>
      {act.error && <Notice tone="error">{act.error}</Notice>}
    </form>
  )
}

function ListingStatus({ game, onSaved }: { game: DevGame; onSaved: () => void }) {
  const [status, setStatus] = useState(game.status)
  const act = useAction()
  const fixed = game.status === 'FEATURED' || game.status === 'BANNED'
  return (
    <div className="listing">
      <h3>Listing</h3>
      {fixed ? (
        <p>
          This game is <strong>{game.status.toLowerCase()}</strong> by the store's admins.
        </p>
      ) : (
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault()
            void act.run(async () => {
              await api.setGameStatus(game.id, status)
              onSaved()
            })
          }}
        >
          <label>
            <span className="label">Who can see it</span>
            <select
              value={status}
              onChange={(e) => {
                act.clear()
                setStatus(e.target.value)
              }}
            >
              <option value="DRAFT">Draft: only you</option>
              <option value="UNLISTED">Unlisted: anyone with its address</option>
              <option value="LISTED">Listed: everyone, in the store</option>
            </select>
          </label>
          <button type="submit" className="btn" disabled={act.busy || status === game.status}>
            Change listing
          </button>
        </form>
      )}
      {act.error && <Notice tone="error">{act.error}</Notice>}
    </div>
  )
}

function Releases({ game, onChanged }: { game: DevGame; onChanged: () => void }) {
  const [version, setVersion] = useState('')
  const [notes, setNotes] = useState('')
  const act = useAction()
  const list = useAction()
  const draft = game.status === 'DRAFT' && game.releases.some((r) => r.published)
  return (
    <div className="releases">
      {draft && (
        <Notice
          tone="warn"
          title={`${game.title} is still a Draft`}
          action={
            <button
              type="button"
              className="btn primary"
              disabled={list.busy}
              onClick={() =>
                list.run(async () => {
                  await api.setGameStatus(game.id, 'LISTED')
                  onChanged()
                })
              }
            >
              List it in the store
            </button>
          }
        >
          Its published release is visible to you alone: players find the game once it is listed.
        </Notice>
      )}
      {list.error && <Notice tone="error" title="The game was not listed">{list.error}</Notice>}
      <form
        className="new-release"
        onSubmit={(e) => {
          e.preventDefault()
          void act.run(async () => {
            await api.createRelease(game.id, version, notes)
            setVersion('')
            setNotes('')
            onChanged()
          })
        }}
      >
        <h3>New release</h3>
        <div className="row">
          <label>
            <span className="label">Version</span>
            <input
              required
              value={version}
              placeholder="1.1.0"
              onChange={(e) => {
                act.clear()
                setVersion(e.target.value)
              }}
            />
          </label>
          <label className="grow">
            <span className="label">Release notes (Markdown)</span>
            <input
              value={notes}
              placeholder="What changed"
              onChange={(e) => {
                act.clear()
                setNotes(e.target.value)
              }}
            />
          </label>
          <button type="submit" className="btn" disabled={act.busy || version.trim() === ''}>
            Create release
          </button>
        </div>
        {act.error && <Notice tone="error">{act.error}</Notice>}
      </form>
      {game.releases.length === 0 ? (
        <p className="empty">No releases yet. Create one, upload its build zip, then publish it.</p>
      ) : (
        <ul className="plain release-list">
          {game.releases.map((r) => (
            <ReleaseRow key={r.id} release={r} onChanged={onChanged} />
          ))}
        </ul>
      )}
    </div>
  )
}

/** A release's build status in words. */
export function buildStatus(r: DevRelease, upload?: UploadProgress): { text: string; tone: string } {
  const u = upload ?? r.upload
  if (r.published) return { text: 'Published', tone: 'ok' }
  if (u?.phase === 'hashing' || u?.phase === 'uploading') return { text: 'Uploading', tone: 'accent' }
  if (u?.phase === 'checking') return { text: 'Server checking', tone: 'accent' }
  if (u?.phase === 'refused') return { text: 'Refused', tone: 'error' }
  if (u?.phase === 'failed' && !r.build) return { text: 'Upload failed', tone: 'error' }
  if (r.build) return { text: 'Ready to publish', tone: 'ok' }
  return { text: 'No build yet', tone: '' }
}

function ReleaseRow({ release: r, onChanged }: { release: DevRelease; onChanged: () => void }) {
  const [upload, setUpload] = useState<UploadProgress | undefined>(r.upload)
  const [replacing, setReplacing] = useState(false)
  const act = useAction()
  useEffect(() => setUpload(r.upload), [r.upload])
  useEvent('upload', (p) => {
    if (p.release_id !== r.id) return
    setUpload(p)
    if (p.phase === 'ready') setReplacing(false)
    if (p.phase === 'ready' || p.phase === 'refused' || p.phase === 'failed') onChanged()
  })
  const st = buildStatus(r, upload)
  const uploading = upload?.phase === 'hashing' || upload?.phase === 'uploading' || upload?.phase === 'checking'
  return (
    <li className="release" aria-label={`Release ${r.version}`}>
      <div className="row">
        <strong className="release-version">{r.version}</strong>
        <span className={`chip ${st.tone}`}>{st.text}</span>
        {r.build && (
          <span className="muted small">
            {bytes(r.build.size)} · {r.build.file_count} files · {bytes(r.build.installed_bytes)} installed
          </span>
        )}
        <span className="grow" />
        {r.published ? (
          <span className="muted small">published {when(r.published_at)}</span>
        ) : (
          r.build &&
          !uploading && (
            <button
              type="button"
              className="btn primary"
              disabled={act.busy}
              onClick={() => act.run(async () => {
                await api.publishRelease(r.id)
                onChanged()
              })}
            >
              Publish {r.version}
            </button>
          )
        )}
      </div>
      {r.notes_md && <p className="muted small">{r.notes_md}</p>}
      {!r.published && r.build && !replacing && !uploading && (
        <button type="button" className="btn link small" onClick={() => setReplacing(true)}>
          Replace the build…
        </button>
      )}
      {act.error && <Notice tone="error" title="Not published">{act.error}</Notice>}
      {!r.published && (!r.build || replacing || uploading) && <BuildUpload release={r} upload={upload} />}
      {!r.published && r.build && !replacing && upload && upload.phase !== 'ready' && !uploading && <UploadStatus upload={upload} />}
    </li>
  )
}

const phases: { id: string; label: string }[] = [
  { id: 'hashing', label: 'Hashing' },
  { id: 'uploading', label: 'Uploading' },
  { id: 'checking', label: 'Server checks' },
]

/** Choosing a build zip, previewing what it changes, and uploading it with its phases. */
function BuildUpload({ release, upload }: { release: DevRelease; upload: UploadProgress | undefined }) {
  const [zip, setZip] = useState('')
  const [diff, setDiff] = useState<BuildDiff>()
  const act = useAction()
  const running = upload && ['hashing', 'uploading', 'checking'].includes(upload.phase)
  return (
    <div className="build-upload">
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault()
          setDiff(undefined)
          void act.run(async () => setDiff(await api.previewBuild(release.id, zip)))
        }}
      >
        <label className="grow">
          <span className="label">{release.build ? 'Replace the build (zip)' : 'Build zip'}</span>
          <input
            type="text"
            className="mono"
            placeholder="/path/to/build.zip"
            value={zip}
            onChange={(e) => {
              setZip(e.target.value)
              setDiff(undefined)
            }}
          />
        </label>
        <button
          type="button"
          className="btn"
          onClick={() => act.run(async () => {
            const p = await api.chooseBuildZip()
            if (p) {
              setZip(p)
              setDiff(undefined)
            }
          })}
        >
          Choose…
        </button>
        <button type="submit" className="btn" disabled={act.busy || !!running || zip.trim() === ''}>
          Preview changes
        </button>
      </form>
      {act.error && <Notice tone="error" title="This zip cannot be uploaded">{act.error}</Notice>}
      {diff && !running && (
        <div className="diff" aria-label="Changes against the previous release">
          <p>
            <strong>{diff.files} files</strong>, {bytes(diff.size)} zipped, {bytes(diff.installed_bytes)} installed.{' '}
            {diff.against ? (
              <>
                Against {diff.against}: <span className="added">{diff.added.length} added</span>,{' '}
                <span className="removed">{diff.removed.length} removed</span>, <span className="changed">{diff.changed.length} changed</span>,{' '}
                {diff.unchanged} unchanged.
              </>
            ) : (
              'This is the first build of the game.'
            )}
          </p>
          {diff.gaps && diff.gaps.length > 0 && (
            <Notice tone="warn" title={`No launch entry for ${diff.gaps.map((g) => g.platform).join(', ')}`}>
              Players on {diff.gaps.length === 1 ? 'that system' : 'those systems'} can buy it but not play it. Add a section to satchel.toml for
              each system the game runs on.
              <ul className="plain small">
                {diff.gaps.map((g) => (
                  <li key={g.platform}>
                    <strong>{g.platform}</strong>: {g.reason}
                  </li>
                ))}
              </ul>
            </Notice>
          )}
          {diff.against && (
            <ul className="plain diff-list">
              {diff.added.map((f) => (
                <li key={`a${f.path}`} className="added">
                  + <code>{f.path}</code> <span className="muted">{bytes(f.size)}</span>
                </li>
              ))}
              {diff.removed.map((f) => (
                <li key={`r${f.path}`} className="removed">
                  − <code>{f.path}</code> <span className="muted">{bytes(f.old_size)}</span>
                </li>
              ))}
              {diff.changed.map((f) => (
                <li key={`c${f.path}`} className="changed">
                  ~ <code>{f.path}</code>{' '}
                  <span className="muted">
                    {bytes(f.old_size)} → {bytes(f.size)}
                  </span>
                </li>
              ))}
            </ul>
          )}
          <button type="button" className="btn primary" disabled={act.busy} onClick={() => act.run(() => api.uploadBuild(release.id, zip))}>
            Upload this build
          </button>
        </div>
      )}
      {upload && <UploadStatus upload={upload} />}
    </div>
  )
}

export function UploadStatus({ upload: u }: { upload: UploadProgress }) {
  const at = phases.findIndex((p) => p.id === u.phase)
  if (u.phase === 'ready') return <Notice tone="ok">Build uploaded and checked: ready to publish.</Notice>
  if (u.phase === 'refused') return <Notice tone="error" title="The server refused this build">{u.error}</Notice>
  if (u.phase === 'failed') return <Notice tone="error" title="The upload did not get through">{u.error}</Notice>
  return (
    <div className="upload-status">
      <ol className="steps">
        {phases.map((p, i) => (
          <li key={p.id} className={i < at ? 'done' : i === at ? 'current' : ''} aria-current={i === at ? 'step' : undefined}>
            {p.label}
          </li>
        ))}
      </ol>
      <ProgressBar value={percent(u.done, u.total)} label={`Build ${u.phase}`} indeterminate={u.phase === 'checking'} />
      <span className="small">
        {u.phase === 'checking'
          ? 'The server checks the size, the sha256 and the zip’s safety rules…'
          : `${bytes(u.done)} of ${bytes(u.total)}${u.bytes_per_second ? ` · ${rate(u.bytes_per_second)}` : ''}${u.eta ? ` · ${eta(u.eta)}` : ''}`}
      </span>
    </div>
  )
}

function Money({ game }: { game: DevGame }) {
  const sales = useAsync(() => api.sales(game.id), [game.id])
  const ledger = useAsync(() => api.ledger(game.id), [game.id])
  const payouts = useAsync(() => api.payouts(game.id), [game.id])
  const t = sales.data?.totals
  return (
    <div className="money">
      {sales.error && <LoadError what="the sales" error={sales.error} retry={sales.reload} />}
      {!sales.data && !sales.error && <Spinner />}
      {t && (
        <dl className="totals">
          <div><dt>Sales</dt><dd>{t.count}</dd></div>
          <div><dt>Gross</dt><dd>{sats(t.gross_msat)}</dd></div>
          <div><dt>Platform fee</dt><dd>{sats(t.fee_msat)}</dd></div>
          <div><dt>Yours</dt><dd>{sats(t.net_msat)}</dd></div>
          <div><dt>Paid out</dt><dd>{sats(t.sent_msat)}</dd></div>
          <div><dt>Pending</dt><dd>{sats(t.pending_msat)}</dd></div>
          {t.failed_msat > 0 && <div><dt>Failed</dt><dd>{sats(t.failed_msat)}</dd></div>}
        </dl>
      )}
      <h3>Sales</h3>
      {sales.data && sales.data.sales.length === 0 ? (
        <p className="empty">No sales yet.</p>
      ) : (
        sales.data && (
          <table>
            <thead>
              <tr><th>Paid</th><th>Price</th><th>Fee</th><th>Yours</th><th>Payout</th></tr>
            </thead>
            <tbody>
              {sales.data.sales.map((s) => (
                <tr key={s.purchase_id}>
                  <td>{when(s.paid_at)}</td>
                  <td>{sats(s.price_msat)}</td>
                  <td>{sats(s.fee_msat)}</td>
                  <td>{sats(s.net_msat)}</td>
                  <td>{s.payout_status?.toLowerCase() ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      )}
      <h3>Payouts</h3>
      {payouts.error && <LoadError what="the payouts" error={payouts.error} retry={payouts.reload} />}
      {payouts.data && payouts.data.length === 0 && <p className="empty">No payouts yet.</p>}
      {payouts.data && payouts.data.length > 0 && (
        <table>
          <thead>
            <tr><th>Created</th><th>To</th><th>Amount</th><th>Status</th><th>Sent</th></tr>
          </thead>
          <tbody>
            {payouts.data.map((p) => (
              <tr key={p.id}>
                <td>{when(p.created_at)}</td>
                <td>{p.ln_address}</td>
                <td>{sats(p.amount_msat)}</td>
                <td title={p.last_error}>{p.status.toLowerCase()}{p.last_error ? ` (${p.last_error})` : ''}</td>
                <td>{when(p.sent_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h3>Ledger</h3>
      {ledger.error && <LoadError what="the ledger" error={ledger.error} retry={ledger.reload} />}
      {ledger.data && ledger.data.length === 0 && <p className="empty">The ledger is empty.</p>}
      {ledger.data && ledger.data.length > 0 && (
        <table>
          <thead>
            <tr><th>When</th><th>Entry</th><th>Amount</th></tr>
          </thead>
          <tbody>
            {ledger.data.map((e) => (
              <tr key={e.id}>
                <td>{when(e.created_at)}</td>
                <td>{e.type.toLowerCase().replace(/_/g, ' ')}</td>
                <td>{sats(e.amount_msat)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  )
}
