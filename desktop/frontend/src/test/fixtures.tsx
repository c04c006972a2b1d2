// Data as the bridge sends it, and a render helper with the providers every screen needs.
import { render } from '@testing-library/react'
import type { ReactElement } from 'react'
import { vi } from 'vitest'
import * as App from '../../wailsjs/go/app/App'
import type {
  DevGame,
  DevRelease,
  GameCard,
  GameView,
  LibraryEntry,
  LibraryGame,
  LibraryView,
  Purchase,
  Status,
  StoreGame,
} from '../api'
import { LibraryProvider } from '../library'
import { NavContext, type Route } from '../route'

export const bridge = vi.mocked(App)

export const cards: GameCard[] = [
  { id: 'g1', slug: 'lantern-drift', title: 'Lantern Drift', summary: 'A lantern on a river.', price_msat: 2_100_000, featured: true, latest: '1.0.0', latest_size: 1_500_000, owned: false },
  { id: 'g2', slug: 'pocket-orbits', title: 'Pocket Orbits', summary: 'Moons.', price_msat: 5_000_000, featured: false, latest: '1.0.0', latest_size: 900_000, owned: false },
  { id: 'g3', slug: 'moss-and-mortar', title: 'Moss & Mortar', summary: 'A free wall.', price_msat: 0, featured: false, latest: '1.2.0', owned: false },
]

export function storeGame(over: Partial<StoreGame> = {}): StoreGame {
  return {
    ...cards[0],
    description_md: '# Lantern Drift\n\nA **calm** game.\n\n- three rivers',
    screenshots: [],
    releases: [{ version: '1.0.0', notes_md: 'Smoother steering.', published_at: '2025-01-02T10:00:00Z', size: 1_500_000, installed_bytes: 3_000_000 }],
    ...over,
  }
}

export function entry(over: Partial<LibraryEntry> = {}): LibraryEntry {
  return { slug: 'lantern-drift', game_id: 'g1', title: 'Lantern Drift', owned: true, status: 'installed', installed: '1.0.0', latest: '1.0.0', auto_update: true, ...over }
}

export function libGame(over: Partial<LibraryGame> = {}, e: Partial<LibraryEntry> = {}): LibraryGame {
  return { entry: entry(e), paused: false, running: false, ...over }
}

export function libraryView(games: LibraryGame[] = [], over: Partial<LibraryView> = {}): LibraryView {
  return { games, sync: { connected: true, reconnects: 0 }, ...over }
}

export function gameView(over: Partial<GameView> = {}, game: Partial<StoreGame> = {}): GameView {
  return { game: storeGame(game), owned: false, guest: false, paused: false, running: false, ...over }
}

export function purchase(over: Partial<Purchase> = {}): Purchase {
  return {
    id: 'p1',
    game_id: 'g1',
    slug: 'lantern-drift',
    title: 'Lantern Drift',
    status: 'PENDING',
    amount_msat: 2_100_000,
    invoice: 'lnbcrt21u1pjtestinvoice0000000000000000000000000000000000000000',
    expires_at: new Date(Date.now() + 15 * 60_000).toISOString(),
    test_money: true,
    ...over,
  }
}

export function status(over: Partial<Status> = {}): Status {
  return {
    identity: { pubkey: 'ab'.repeat(32), npub: 'npub1testtesttesttesttesttesttesttesttesttesttesttesttestqqqqqq', active: true },
    server: 'http://127.0.0.1:8080',
    test_money: false,
    sync: { connected: true, reconnects: 0 },
    os: 'linux',
    dirs: {
      data: '/home/p/.local/share/satchel',
      config: '/home/p/.config/satchel',
      state: '/home/p/.local/state/satchel',
    },
    ...over,
  }
}

export function release(over: Partial<DevRelease> = {}): DevRelease {
  return { id: 'r1', game_id: 'g1', version: '1.0.0', notes_md: '', published: false, ...over }
}

export function devGame(over: Partial<DevGame> = {}): DevGame {
  return {
    id: 'g1',
    slug: 'lantern-drift',
    title: 'Lantern Drift',
    summary: 'A lantern.',
    description_md: '# Lantern',
    price_msat: 2_100_000,
    status: 'FEATURED',
    releases: [],
    screenshots: [],
    ...over,
  }
}

/** Renders a screen inside the providers of the window, with the library the LibraryProvider loads. */
export function renderScreen(ui: ReactElement, opts: { route?: Route; library?: LibraryView; libraryError?: string } = {}) {
  const go = vi.fn()
  if (opts.libraryError) bridge.Library.mockRejectedValue(opts.libraryError)
  else bridge.Library.mockResolvedValue((opts.library ?? libraryView()) as never)
  bridge.Ready.mockResolvedValue()
  const r = render(
    <NavContext.Provider value={{ route: opts.route ?? { name: 'store' }, go }}>
      <LibraryProvider>{ui}</LibraryProvider>
    </NavContext.Provider>,
  )
  return { ...r, go }
}

/** Makes a mocked bound method answer v. */
export function answer(fn: (...args: any[]) => Promise<any>, v: unknown) {
  vi.mocked(fn).mockResolvedValue(v as never)
}

/** Makes a mocked bound method fail with the Go error's text, as Wails does. */
export function fail(fn: (...args: any[]) => Promise<any>, message: string) {
  vi.mocked(fn).mockRejectedValue(message)
}
