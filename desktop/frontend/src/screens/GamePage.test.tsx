import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { emit } from '../test/bus'
import { answer, bridge, entry, fail, gameView, libGame, libraryView, purchase, renderScreen } from '../test/fixtures'
import GamePage from './GamePage'

test('loading, then the game: title, summary, Markdown description, latest version and size', async () => {
  answer(bridge.Game, gameView({}, { description_md: '# Lantern Drift\n\nA **calm** game. <script>alert(1)</script>\n\n- three rivers' }))
  renderScreen(<GamePage slug="lantern-drift" />)
  expect(screen.getByRole('status')).toHaveTextContent('Loading')
  expect(await screen.findByRole('heading', { level: 1, name: 'Lantern Drift' })).toBeInTheDocument()
  expect(screen.getByText('A lantern on a river.')).toBeInTheDocument()
  expect(screen.getByText('Latest version').nextElementSibling).toHaveTextContent('1.0.0')
  expect(screen.getByText(/1\.4 MiB/)).toBeInTheDocument()
  const description = screen.getByRole('region', { name: 'Description' })
  expect(await within(description).findByText('calm')).toHaveProperty('tagName', 'STRONG')
  expect(within(description).getByText('three rivers')).toHaveProperty('tagName', 'LI')
  expect(description.querySelector('script')).toBeNull()
  await waitFor(() => expect(bridge.Ready).toHaveBeenCalledWith('game'))
})

test('an error loading the game', async () => {
  fail(bridge.Game, 'unknown game: there is no game "nope" in the store')
  renderScreen(<GamePage slug="nope" />)
  expect(await screen.findByRole('alert')).toHaveTextContent('there is no game "nope"')
})

const cases: [string, Parameters<typeof gameView>, string[]][] = [
  ['not owned', [{}], ['Buy for 2,100 sats', 'Buy as a guest']],
  ['a free game', [{}, { price_msat: 0 }], ['Get it free']],
  ['not released', [{}, { latest: undefined, releases: [] }], ['Not released yet']],
  ['owned, not installed', [{ owned: true, entry: entry({ installed: undefined, status: 'not installed' }) }], ['Install']],
  ['installed', [{ owned: true, entry: entry() }], ['▶ Play']],
  ['update available', [{ owned: true, entry: entry({ status: 'update available', latest: '1.1.0' }) }], ['▶ Play', 'Update to 1.1.0']],
  ['paused', [{ owned: true, paused: true, entry: entry({ installed: undefined, status: 'installing', installing: '1.0.0' }) }], ['Resume download']],
  ['running', [{ owned: true, running: true, entry: entry() }], ['Quit game']],
]

test('without an identity the only purchase is a guest one', async () => {
  answer(bridge.Game, gameView({ guest: true }))
  renderScreen(<GamePage slug="lantern-drift" />)
  expect(await screen.findByRole('button', { name: 'Buy as a guest for 2,100 sats' })).toBeInTheDocument()
  expect(screen.queryByRole('button', { name: 'Buy for 2,100 sats' })).not.toBeInTheDocument()
})

test.each(cases)('the button fits the player: %s', async (_, args, buttons) => {
  answer(bridge.Game, gameView(...args))
  renderScreen(<GamePage slug="lantern-drift" />)
  for (const name of buttons) expect(await screen.findByRole('button', { name })).toBeInTheDocument()
})

test('an update available says what it downloads of the whole build', async () => {
  const e = entry({ status: 'update available', latest: '1.1.0' })
  answer(bridge.Game, gameView({ owned: true, entry: e }))
  const size = { version: '1.1.0', fetch_bytes: 14 << 20, build_size: 1126 << 20, update: true, done_bytes: 0 }
  renderScreen(<GamePage slug="lantern-drift" />, { library: libraryView([libGame({ size }, e)]) })
  expect(await screen.findByText('Update 1.1.0: 14 MiB of 1.1 GiB')).toBeInTheDocument()
})

test('installing shows its progress, live from the engine', async () => {
  answer(bridge.Game, gameView({ owned: true, entry: entry({ installed: undefined, status: 'installing' }) }))
  const lib = libraryView([libGame({ job: { slug: 'lantern-drift', version: '1.0.0', phase: 'downloading', done: 0, total: 1000 } }, { installed: undefined, status: 'installing' })])
  renderScreen(<GamePage slug="lantern-drift" />, { library: lib })
  expect(await screen.findByText(/Downloading 1.0.0 0%/)).toBeInTheDocument()
  emit('core', { kind: 'progress', slug: 'lantern-drift', progress: { slug: 'lantern-drift', version: '1.0.0', phase: 'downloading', done: 450, total: 1000, bytes_per_second: 2048, eta: 3e9 } })
  expect(await screen.findByText(/Downloading 1.0.0 45%/)).toBeInTheDocument()
  expect(screen.getByText('2.0 KiB/s · 3 s left')).toBeInTheDocument()
  expect(screen.getByRole('progressbar', { name: 'Installing Lantern Drift' })).toHaveAttribute('aria-valuenow', '45')
  await userEvent.click(screen.getByRole('button', { name: 'Pause' }))
  expect(bridge.Pause).toHaveBeenCalledWith('lantern-drift')
})

test('a failed install says what to do, and tries again', async () => {
  answer(bridge.Game, gameView({ owned: true, entry: entry({ installed: undefined, status: 'not installed' }) }))
  renderScreen(<GamePage slug="lantern-drift" />)
  await screen.findByRole('button', { name: 'Install' })
  emit('core', { kind: 'install-failed', slug: 'lantern-drift', message: 'not enough disk space in /games', problem: 'disk-space' })
  expect(await screen.findByRole('alert')).toHaveTextContent('There is not enough free disk space')
  await userEvent.click(screen.getByRole('button', { name: 'Try again' }))
  expect(bridge.Install).toHaveBeenCalledWith('lantern-drift')
})

test('buying opens the checkout; once paid, the page and library reload', async () => {
  answer(bridge.Game, gameView())
  answer(bridge.Buy, purchase())
  renderScreen(<GamePage slug="lantern-drift" />)
  await userEvent.click(await screen.findByRole('button', { name: 'Buy for 2,100 sats' }))
  const dialog = await screen.findByRole('dialog', { name: 'Buy Lantern Drift' })
  expect(bridge.Buy).toHaveBeenCalledWith('lantern-drift', false)
  expect(await within(dialog).findByRole('img', { name: /QR code/ })).toBeInTheDocument()
  answer(bridge.Game, gameView({ owned: true, entry: entry({ installed: undefined, status: 'installing' }) }))
  emit('purchase', purchase({ status: 'PAID' }))
  expect(await within(dialog).findByText('Paid. The game is yours.')).toBeInTheDocument()
  await waitFor(() => expect(bridge.Game).toHaveBeenCalledTimes(2))
  await userEvent.keyboard('{Escape}')
  expect(screen.queryByRole('dialog')).not.toBeInTheDocument()
})

test('the checkout route opens the checkout at once', async () => {
  answer(bridge.Game, gameView())
  answer(bridge.Buy, purchase())
  renderScreen(<GamePage slug="lantern-drift" openCheckout />)
  expect(await screen.findByRole('dialog', { name: 'Buy Lantern Drift' })).toBeInTheDocument()
})

test("offline, an installed game's page plays from the library", async () => {
  const reason = 'cannot reach the Satchel server at http://127.0.0.1:8080: check your network connection'
  answer(bridge.Game, gameView({ owned: true, entry: entry(), offline: reason }, { price_msat: 0, description_md: '', releases: [] }))
  renderScreen(<GamePage slug="lantern-drift" />)
  expect(await screen.findByRole('button', { name: '▶ Play' })).toBeInTheDocument()
  expect(screen.getByRole('status')).toHaveTextContent('this page shows what your library knows')
  expect(screen.queryByText('Free')).not.toBeInTheDocument()
})

test('a page that failed offline loads by itself once the server is back', async () => {
  fail(bridge.Game, 'cannot reach the Satchel server at http://127.0.0.1:8080')
  renderScreen(<GamePage slug="lantern-drift" />)
  expect(await screen.findByRole('alert')).toHaveTextContent('cannot reach')
  emit('core', { kind: 'sync', sync: { connected: false, reconnects: 1, last_error: 'cannot reach' } })
  answer(bridge.Game, gameView())
  emit('core', { kind: 'sync', sync: { connected: true, reconnects: 2 } })
  expect(await screen.findByRole('heading', { level: 1, name: 'Lantern Drift' })).toBeInTheDocument()
})

test('the page lists every published release with its notes, and the screenshots', async () => {
  const shots = [1, 2].map((n) => ({ id: `m${n}`, url: `http://s/media/g1/${n}.png`, width: 1280, height: 720 }))
  answer(
    bridge.Game,
    gameView({}, {
      screenshots: shots,
      releases: [
        { version: '1.0.0', notes_md: 'The **third** river.', published_at: '2025-02-01T10:00:00Z' },
        { version: '0.9.0', notes_md: 'First public build.', published_at: '2025-01-01T10:00:00Z' },
      ],
    }),
  )
  renderScreen(<GamePage slug="lantern-drift" />)
  const releases = await screen.findByRole('region', { name: 'Releases' })
  expect(within(releases).getByRole('heading', { name: /1\.0\.0/ })).toBeInTheDocument()
  expect(within(releases).getByRole('heading', { name: /0\.9\.0/ })).toBeInTheDocument()
  expect(await within(releases).findByText('third')).toHaveProperty('tagName', 'STRONG')
  expect(within(releases).getByText('First public build.')).toBeInTheDocument()
  expect(screen.getByRole('button', { name: 'Screenshot 2 of 2' })).toBeInTheDocument()
})

test('a game that failed within seconds says so with its log, which opens', async () => {
  answer(
    bridge.Game,
    gameView({ owned: true, entry: entry({ last_run: { version: '1.0.0', started_at: '2025-02-01T10:00:00Z', exit_code: 3,
      error: 'lantern-drift exited with an error after 0.2s (exit code 3)', tail: ['satchel: launching', 'missing library libfoo.so'] } }) }),
  )
  bridge.OpenLaunchLog.mockResolvedValue()
  renderScreen(<GamePage slug="lantern-drift" />)
  const notice = await screen.findByText('Lantern-drift exited with an error after 0.2s (exit code 3).')
  const box = notice.closest('[role="alert"], .notice') as HTMLElement
  expect(within(box).getByText(/missing library libfoo\.so/)).toBeInTheDocument()
  await userEvent.click(within(box).getByRole('button', { name: 'Open the log' }))
  expect(bridge.OpenLaunchLog).toHaveBeenCalledWith('lantern-drift')
})
