import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { emit } from '../test/bus'
import { answer, bridge, cards, libGame, libraryView, renderScreen } from '../test/fixtures'
import Library from './Library'

// The store, where the library finds the covers, lists the games with theirs.
const cover = { id: 'm1', url: 'http://s/media/g1/cover.png', width: 630, height: 500 }
beforeEach(() => answer(bridge.Games, { games: [{ ...cards[0], cover, owned: true }] }))

const downloading = libGame(
  { job: { slug: 'pocket-orbits', version: '1.0.0', phase: 'downloading', done: 262144, total: 1048576, bytes_per_second: 131072, eta: 6e9 } },
  { slug: 'pocket-orbits', title: 'Pocket Orbits', installed: undefined, status: 'installing', installing: '1.0.0' },
)

test('loading, then an empty library', async () => {
  const { go } = renderScreen(<Library />)
  expect(screen.getByRole('status')).toHaveTextContent('Loading your library')
  expect(await screen.findByText(/Your library is empty/)).toBeInTheDocument()
  await userEvent.click(screen.getByRole('button', { name: 'Browse the store' }))
  expect(go).toHaveBeenCalledWith({ name: 'store' })
  await waitFor(() => expect(bridge.Ready).toHaveBeenCalledWith('library'))
})

test('an error loading the library, then a retry', async () => {
  renderScreen(<Library />, { libraryError: 'state.json is damaged: fix or delete it' })
  expect(await screen.findByRole('alert')).toHaveTextContent('Could not load your library')
  bridge.Library.mockResolvedValue(libraryView([libGame()]) as never)
  await userEvent.click(screen.getByRole('button', { name: 'Try again' }))
  const row = await screen.findByRole('listitem', { name: 'Lantern Drift' })
  await waitFor(() => expect(row.querySelector(`img[src="${cover.url}"]`)).not.toBeNull()) // its cover, from the store
})

test('the download queue: percent, rate, time left; pause, resume, cancel', async () => {
  renderScreen(<Library />, { library: libraryView([downloading]) })
  const queue = await screen.findByRole('region', { name: 'Downloads' })
  expect(within(queue).getByText('Downloading')).toBeInTheDocument()
  expect(within(queue).getByText('25% · 256 KiB of 1.0 MiB · 128 KiB/s · 6 s left')).toBeInTheDocument()
  expect(within(queue).getByRole('progressbar', { name: 'Pocket Orbits download' })).toHaveAttribute('aria-valuenow', '25')
  emit('core', { kind: 'progress', slug: 'pocket-orbits', progress: { ...downloading.job!, done: 786432, eta: 2e9 } })
  expect(await within(queue).findByText(/^75% · 768 KiB of 1.0 MiB/)).toBeInTheDocument()
  await userEvent.click(within(queue).getByRole('button', { name: 'Pause' }))
  expect(bridge.Pause).toHaveBeenCalledWith('pocket-orbits')
  await userEvent.click(within(queue).getByRole('button', { name: 'Cancel' }))
  expect(bridge.CancelInstall).toHaveBeenCalledWith('pocket-orbits')
})

test('a paused download shows where it stopped, and resumes', async () => {
  const size = { version: '1.0.0', fetch_bytes: 1048576, build_size: 1048576, done_bytes: 419431 }
  const paused = libGame({ paused: true, size }, { slug: 'pocket-orbits', title: 'Pocket Orbits', installed: undefined, status: 'installing', installing: '1.0.0' })
  renderScreen(<Library />, { library: libraryView([paused]) })
  const queue = await screen.findByRole('region', { name: 'Downloads' })
  expect(within(queue).getByText('Paused')).toBeInTheDocument()
  expect(within(queue).getByText('40% · 410 KiB of 1.0 MiB')).toBeInTheDocument()
  expect(within(queue).getByRole('progressbar', { name: 'Pocket Orbits download' })).toHaveAttribute('aria-valuenow', '40')
  await userEvent.click(within(queue).getByRole('button', { name: 'Resume' }))
  expect(bridge.Install).toHaveBeenCalledWith('pocket-orbits')
})

test('an update says what it downloads of the whole build, before and while it runs', async () => {
  const e = { slug: 'pocket-orbits', title: 'Pocket Orbits', status: 'update available', latest: '1.2.0' }
  const size = { version: '1.2.0', fetch_bytes: 14 << 20, build_size: 1126 << 20, update: true, done_bytes: 0 }
  renderScreen(<Library />, { library: libraryView([libGame({ size }, e)]) })
  const row = await screen.findByRole('listitem', { name: 'Pocket Orbits' })
  expect(within(row).getByText('Update 1.2.0: 14 MiB of 1.1 GiB')).toBeInTheDocument()

  const job = { slug: 'pocket-orbits', version: '1.2.0', phase: 'downloading', done: 7 << 20, total: 14 << 20, build_size: 1126 << 20 }
  bridge.Library.mockResolvedValue(libraryView([libGame({ job }, { ...e, status: 'installing', installing: '1.2.0' })]) as never)
  emit('core', { kind: 'progress', slug: 'pocket-orbits', progress: { ...job, phase: 'queued' } })
  const queue = await screen.findByRole('region', { name: 'Downloads' })
  emit('core', { kind: 'progress', slug: 'pocket-orbits', progress: job })
  expect(await within(queue).findByText('Update 1.2.0: 14 MiB of 1.1 GiB')).toBeInTheDocument()
  expect(within(queue).getByText(/^50% · 7.0 MiB of 14 MiB/)).toBeInTheDocument()
})

test('install states of the games', async () => {
  renderScreen(<Library />, {
    library: libraryView([
      libGame(),
      libGame({}, { slug: 'pocket-orbits', title: 'Pocket Orbits', status: 'update available', latest: '1.1.0' }),
      libGame({}, { slug: 'signal-garden', title: 'Signal Garden', status: 'not installed', installed: undefined }),
      libGame({ running: true }, { slug: 'moss-and-mortar', title: 'Moss & Mortar' }),
    ]),
  })
  const row = (name: string) => screen.findByRole('listitem', { name })
  const lantern = await row('Lantern Drift')
  expect(within(lantern).getByText('Installed')).toBeInTheDocument()
  await userEvent.click(within(lantern).getByRole('button', { name: '▶ Play' }))
  expect(bridge.Play).toHaveBeenCalledWith('lantern-drift')
  const orbits = await row('Pocket Orbits')
  expect(within(orbits).getByText('Update available')).toBeInTheDocument()
  expect(within(orbits).getByText(/v1.0.0 → v1.1.0/)).toBeInTheDocument()
  await userEvent.click(within(orbits).getByRole('button', { name: 'Update' }))
  expect(bridge.Install).toHaveBeenCalledWith('pocket-orbits')
  const garden = await row('Signal Garden')
  expect(within(garden).getByText('Not installed')).toBeInTheDocument()
  expect(within(garden).getByRole('button', { name: 'Install' })).toBeInTheDocument()
  const moss = await row('Moss & Mortar')
  expect(within(moss).getByText('Playing')).toBeInTheDocument()
  await userEvent.click(within(moss).getByRole('button', { name: 'Quit' }))
  expect(bridge.StopGame).toHaveBeenCalledWith('moss-and-mortar')
})

test('verify and repair show their report', async () => {
  renderScreen(<Library />, { library: libraryView([libGame()]) })
  const damaged = [
    { path: 'bin/lantern-drift', problem: 'sha256' },
    { path: 'rivers/first.txt', problem: 'missing' },
  ]
  answer(bridge.Verify, { slug: 'lantern-drift', version: '1.0.0', dir: '/l', checked: 3, damaged })
  await userEvent.click(await screen.findByRole('button', { name: 'Verify files' }))
  const report = await screen.findByRole('dialog', { name: 'Verify report' })
  expect(within(report).getByText('2 damaged files')).toBeInTheDocument()
  const items = within(report).getAllByRole('listitem')
  expect(items[0]).toHaveTextContent('bin/lantern-drift — different content: it was changed or is corrupted')
  expect(items[1]).toHaveTextContent('rivers/first.txt — missing: the file is not there any more')
  answer(bridge.Verify, { slug: 'lantern-drift', version: '1.0.0', dir: '/l', checked: 3, damaged, repaired: ['bin/lantern-drift', 'rivers/first.txt'], fetched_bytes: 2048 })
  await userEvent.click(within(report).getByRole('button', { name: 'Repair these files' }))
  expect(bridge.Verify).toHaveBeenLastCalledWith('lantern-drift', true)
  const repaired = await screen.findByRole('dialog', { name: 'Repair report' })
  expect(within(repaired).getByText('Repaired 2 of 2 damaged files')).toBeInTheDocument()
  expect(within(repaired).getAllByText('repaired')).toHaveLength(2)
  expect(within(repaired).queryByRole('button', { name: /Repair/ })).not.toBeInTheDocument()
})

test('uninstall asks first; open folder and auto-update', async () => {
  renderScreen(<Library />, { library: libraryView([libGame()]) })
  await userEvent.click(await screen.findByRole('button', { name: 'Uninstall' }))
  const ask = screen.getByRole('dialog', { name: 'Uninstall Lantern Drift?' })
  await userEvent.click(within(ask).getByRole('button', { name: 'Uninstall' }))
  expect(bridge.Uninstall).toHaveBeenCalledWith('lantern-drift')
  await userEvent.click(screen.getByRole('button', { name: 'Open folder' }))
  expect(bridge.OpenFolder).toHaveBeenCalledWith('lantern-drift')
  await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Auto-update' }), 'off')
  expect(bridge.SetGameAutoUpdate).toHaveBeenCalledWith('lantern-drift', 'off')
})

const problems: [string, string, string][] = [
  ['disk-space', 'Not enough disk space', 'move the library to a larger disk'],
  ['verify', 'The download was damaged', 'did not match what the developer published'],
  ['offline', 'The server is unreachable', 'installed games still play offline'],
]

test.each(problems)('an install failure (%s) says what to do', async (problem, title, advice) => {
  const { go } = renderScreen(<Library />, { library: libraryView([libGame({}, { status: 'update available', latest: '1.1.0' })]) })
  await screen.findByRole('listitem', { name: 'Lantern Drift' })
  emit('core', { kind: 'install-failed', slug: 'lantern-drift', message: 'raw error text', problem })
  const alert = await screen.findByRole('alert')
  expect(alert).toHaveTextContent(title)
  expect(alert).toHaveTextContent(advice)
  expect(alert).toHaveTextContent('raw error text')
  if (problem === 'disk-space') {
    await userEvent.click(within(alert).getByRole('button', { name: 'Move library…' }))
    expect(go).toHaveBeenCalledWith({ name: 'settings' })
  }
  await userEvent.click(within(alert).getByRole('button', { name: 'Try again' }))
  expect(bridge.Install).toHaveBeenCalledWith('lantern-drift')
})

test('a cancelled install is not an error', async () => {
  renderScreen(<Library />, { library: libraryView([libGame()]) })
  await screen.findByRole('listitem', { name: 'Lantern Drift' })
  emit('core', { kind: 'install-failed', slug: 'lantern-drift', message: 'context canceled', problem: 'cancelled' })
  expect(screen.queryByRole('alert')).not.toBeInTheDocument()
})

test('a rollback is explained', async () => {
  renderScreen(<Library />, { library: libraryView([libGame()]) })
  await screen.findByRole('listitem', { name: 'Lantern Drift' })
  emit('core', { kind: 'rolled-back', slug: 'lantern-drift', message: 'lantern-drift 1.1.0 failed to launch; back to 1.0.0' })
  expect(await screen.findByText(/back to 1.0.0/)).toBeInTheDocument()
})

test('checking for updates when the server is unreachable', async () => {
  renderScreen(<Library />, { library: libraryView([libGame()]) })
  answer(bridge.RefreshLibrary, libraryView([libGame()], { error: 'cannot reach the Satchel server' }))
  await userEvent.click(await screen.findByRole('button', { name: 'Check for updates' }))
  expect(await screen.findByRole('alert')).toHaveTextContent('cannot reach the Satchel server')
})

test('a game bought as a guest is not one that left the library', async () => {
  renderScreen(<Library />, {
    library: libraryView([
      libGame({}, { slug: 'signal-garden', title: 'Signal Garden', owned: false, guest: true }),
      libGame({}, { owned: false }),
    ]),
  })
  const guest = await screen.findByRole('listitem', { name: 'Signal Garden' })
  expect(guest).toHaveTextContent('bought as a guest: claim its receipt in Account')
  expect(guest).not.toHaveTextContent('no longer in your library')
  expect(screen.getByRole('listitem', { name: 'Lantern Drift' })).toHaveTextContent('no longer in your library')
})
