import { useEffect, useState } from 'react'
import { api, type GameCard } from '../api'
import { Cover } from '../components/media'
import { LoadError, Spinner } from '../components/ui'
import { bytes, price } from '../format'
import { useAsync, useEvent, useReady, useReconnected } from '../hooks'
import { useLibrary } from '../library'
import { take, takeBoot } from '../preload'
import { useNav } from '../route'

/** The store: featured games first, then the rest, with a title search. */
export default function Store() {
  const [query, setQuery] = useState('')
  const [search, setSearch] = useState('')
  useEffect(() => {
    const t = setTimeout(() => setSearch(query.trim()), 250)
    return () => clearTimeout(t)
  }, [query])
  const [bootPage] = useState(() => takeBoot('games'))
  const page = useAsync(() => (search ? api.games(search) : take('games', () => api.games())), [search], bootPage)
  const [more, setMore] = useState<GameCard[]>([])
  const [next, setNext] = useState<string>()
  useEffect(() => {
    setMore([])
    setNext(page.data?.next || undefined)
  }, [page.data])
  useEvent('session', page.reload) // another server, maybe
  useReconnected(!!page.error, page.reload)
  useReady('store', !!page.data)

  const games = [...(page.data?.games ?? []), ...more]
  const featured = search ? [] : games.filter((g) => g.featured)
  const rest = search ? games : games.filter((g) => !g.featured)

  return (
    <div className="store">
      <header className="page-head">
        <h1>Store</h1>
        <label className="search">
          <span className="sr-only">Search games</span>
          <input type="search" placeholder="Search games by title" value={query} onChange={(e) => setQuery(e.target.value)} />
        </label>
      </header>
      {page.error && !page.data && <LoadError what="the store" error={page.error} retry={page.reload} />}
      {!page.data && !page.error && <Spinner label="Loading the store…" />}
      {page.data && games.length === 0 && (
        <p className="empty">{search ? `No games match “${search}”.` : 'The store has no games yet.'}</p>
      )}
      {featured.length > 0 && (
        <section aria-labelledby="featured">
          <h2 id="featured">Featured</h2>
          <div className="featured-grid">
            {featured.map((g) => (
              <Card key={g.id} game={g} big />
            ))}
          </div>
        </section>
      )}
      {rest.length > 0 && (
        <section aria-labelledby="all-games">
          <h2 id="all-games">{search ? 'Results' : 'All games'}</h2>
          <div className="card-grid">
            {rest.map((g) => (
              <Card key={g.id} game={g} />
            ))}
          </div>
        </section>
      )}
      {next && (
        <button
          type="button"
          className="btn"
          onClick={() =>
            api.games(search, next).then((p) => {
              setMore((m) => [...m, ...p.games])
              setNext(p.next || undefined)
            })
          }
        >
          More games
        </button>
      )}
    </div>
  )
}

/**
 * A game's card: its cover, what it is, its price, and whether the identity owns it: as the
 * store page said, or as the live library says since (a page fetched at start, before a
 * purchase, still marks the game bought meanwhile).
 */
export function Card({ game, big }: { game: GameCard; big?: boolean }) {
  const nav = useNav()
  const owned = game.owned || !!useLibrary().game(game.slug)?.entry.owned
  return (
    <button
      type="button"
      className={`game-card${big ? ' big' : ''}`}
      onClick={() => nav.go({ name: 'game', slug: game.slug })}
      aria-label={`${game.title}, ${owned ? 'in your library' : price(game.price_msat)}`}
    >
      <Cover slug={game.slug} title={game.title} image={game.cover} />
      <span className="card-body">
        <span className="card-title">{game.title}</span>
        {game.developer && <span className="muted small">by {game.developer}</span>}
        <span className="card-summary">{game.summary}</span>
        <span className="card-meta">
          {owned ? (
            <span className="chip ok owned">✓ Owned</span>
          ) : (
            <span className={`price${game.price_msat === 0 ? ' free' : ''}`}>{price(game.price_msat)}</span>
          )}
          {game.latest && (
            <span className="muted">
              v{game.latest}
              {game.latest_size ? ` · ${bytes(game.latest_size)}` : ''}
            </span>
          )}
        </span>
      </span>
    </button>
  )
}
