import { act, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import App from './App'
import { emitHeard } from './test/bus'
import { answer, bridge, cards, fail, libGame, libraryView, status } from './test/fixtures'

beforeEach(() => {
  answer(bridge.Games, { games: cards })
  answer(bridge.Library, libraryView())
  bridge.Ready.mockResolvedValue()
})

test('opening, then an error if the launcher cannot start', async () => {
  fail(bridge.Status, 'the OS keyring is not available')
  render(<App />)
  expect(screen.getByRole('status')).toHaveTextContent('Opening Satchel')
  expect(await screen.findByRole('alert')).toHaveTextContent('the OS keyring is not available')
})

test('files the launcher cannot open', async () => {
  answer(bridge.Status, status({ error: 'state.json is damaged' }))
  render(<App />)
  expect(await screen.findByRole('alert')).toHaveTextContent('Satchel could not open its files')
})

test('first run starts with the welcome', async () => {
  answer(bridge.Status, status({ identity: undefined }))
  render(<App />)
  expect(await screen.findByRole('heading', { name: /Welcome to Satchel/ })).toBeInTheDocument()
  await userEvent.click(screen.getByRole('button', { name: 'Browse the store without an identity' }))
  expect(await screen.findByRole('heading', { name: 'Store' })).toBeInTheDocument()
  expect(screen.getByText('No identity (guest)')).toBeInTheDocument()
})

test('with an identity: the store, the sections, and keyboard navigation', async () => {
  answer(bridge.Status, status())
  answer(bridge.Library, libraryView([libGame({ job: { slug: 'lantern-drift', phase: 'downloading', done: 1, total: 2 } })]))
  answer(bridge.Settings, { server: 'x', library: '/l', moving: false, speed_limit: 0, auto_update: true, server_fixed: false })
  render(<App />)
  expect(await screen.findByRole('heading', { name: 'Store' })).toBeInTheDocument()
  const nav = screen.getByRole('navigation', { name: 'Sections' })
  expect(within(nav).getByRole('button', { name: 'Store' })).toHaveAttribute('aria-current', 'page')
  expect(await within(nav).findByLabelText('1 downloading')).toBeInTheDocument()
  within(nav).getByRole('button', { name: /Settings/ }).focus()
  await userEvent.keyboard('{Enter}')
  expect(await screen.findByRole('heading', { name: 'Settings' })).toBeInTheDocument()
  expect(screen.getByRole('main')).toHaveFocus()
})

test('the first screen named by the bridge', async () => {
  answer(bridge.Status, status({ route: 'library' }))
  render(<App />)
  expect(await screen.findByRole('heading', { name: 'Library' })).toBeInTheDocument()
})

test('banners: test money, offline, keyring', async () => {
  answer(bridge.Status, status({ test_money: true, keyring_error: 'the OS keyring is locked: unlock it' }))
  render(<App />)
  expect(await screen.findByText(/this server takes no real money/)).toBeInTheDocument()
  expect(screen.getByText(/could not be read from the OS keyring/)).toBeInTheDocument()
  await emitHeard('core', { kind: 'sync', sync: { connected: false, reconnects: 2, last_error: 'cannot reach the Satchel server' } })
  expect(await screen.findByText(/reconnects by itself/)).toBeInTheDocument()
  expect(screen.getByText('Offline')).toBeInTheDocument()
})

test('the offline banner says the reason once', async () => {
  answer(bridge.Status, status())
  render(<App />)
  await screen.findByRole('heading', { name: 'Store' })
  const reason =
    'cannot reach the Satchel server at http://127.0.0.1:8080: check your network connection (installed games still launch offline)'
  await emitHeard('core', { kind: 'sync', sync: { connected: false, reconnects: 1, last_error: reason } })
  const banner = await screen.findByText(/reconnects by itself/)
  expect(banner).toHaveTextContent(
    'Offline. Cannot reach the Satchel server at http://127.0.0.1:8080: check your network connection (installed games still launch offline). Satchel reconnects by itself.',
  )
  expect(banner.textContent!.split('127.0.0.1:8080').length).toBe(2)
})

test('an offline event that comes before the library has loaded is kept', async () => {
  answer(bridge.Status, status())
  let loaded: (v: unknown) => void = () => {}
  vi.mocked(bridge.Library).mockReturnValue(new Promise((resolve) => (loaded = resolve)) as never)
  render(<App />)
  await screen.findByRole('heading', { name: 'Store' })
  await emitHeard('core', { kind: 'sync', sync: { connected: false, reconnects: 1, last_error: 'cannot reach the Satchel server' } })
  expect(await screen.findByText(/reconnects by itself/)).toBeInTheDocument()
  await act(async () => loaded(libraryView()))
  expect(screen.getByText(/reconnects by itself/)).toBeInTheDocument()
})
