import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { answer, bridge, cards, fail, libGame, libraryView, renderScreen } from '../test/fixtures'
import Store from './Store'

test('loading, then featured games first and the rest, with prices in sats', async () => {
  let resolve: (v: unknown) => void = () => {}
  bridge.Games.mockReturnValue(new Promise((r) => (resolve = r)) as never)
  renderScreen(<Store />)
  expect(screen.getByRole('status')).toHaveTextContent('Loading the store')
  resolve({ games: cards })
  const featured = await screen.findByRole('region', { name: 'Featured' })
  expect(within(featured).getByRole('button', { name: /Lantern Drift, 2,100 sats/ })).toBeInTheDocument()
  const all = screen.getByRole('region', { name: 'All games' })
  expect(within(all).getByRole('button', { name: /Pocket Orbits, 5,000 sats/ })).toBeInTheDocument()
  expect(within(all).getByRole('button', { name: /Moss & Mortar, Free/ })).toBeInTheDocument()
  expect(within(all).queryByText('Lantern Drift')).not.toBeInTheDocument()
  await waitFor(() => expect(bridge.Ready).toHaveBeenCalledWith('store'))
})

test('search asks the server and says when nothing matches', async () => {
  answer(bridge.Games, { games: cards })
  renderScreen(<Store />)
  await screen.findByRole('region', { name: 'Featured' })
  answer(bridge.Games, { games: [] })
  await userEvent.type(screen.getByRole('searchbox', { name: 'Search games' }), 'zzz')
  expect(await screen.findByText('No games match “zzz”.')).toBeInTheDocument()
  expect(bridge.Games).toHaveBeenLastCalledWith('zzz', '')
})

test('an empty store', async () => {
  answer(bridge.Games, { games: [] })
  renderScreen(<Store />)
  expect(await screen.findByText('The store has no games yet.')).toBeInTheDocument()
})

test('an error, then a retry', async () => {
  fail(bridge.Games, 'cannot reach the Satchel server at http://127.0.0.1:8080: check your network connection')
  renderScreen(<Store />)
  expect(await screen.findByRole('alert')).toHaveTextContent('cannot reach the Satchel server')
  answer(bridge.Games, { games: cards })
  await userEvent.click(screen.getByRole('button', { name: 'Try again' }))
  expect(await screen.findByRole('region', { name: 'Featured' })).toBeInTheDocument()
})

test('a card opens the game page', async () => {
  answer(bridge.Games, { games: cards })
  const { go } = renderScreen(<Store />)
  await userEvent.click(await screen.findByRole('button', { name: /Pocket Orbits/ }))
  expect(go).toHaveBeenCalledWith({ name: 'game', slug: 'pocket-orbits' })
})

test('cards show their cover and developer, and mark the games the identity owns', async () => {
  const cover = { id: 'm1', url: 'http://127.0.0.1:8080/media/g2/cover.png', width: 630, height: 500 }
  answer(bridge.Games, { games: [cards[0], { ...cards[1], cover, owned: true, developer: 'Satchel Demo Studio' }] })
  const { container } = renderScreen(<Store />)
  const card = await screen.findByRole('button', { name: 'Pocket Orbits, in your library' })
  expect(within(card).getByText('✓ Owned')).toBeInTheDocument()
  expect(within(card).getByText('by Satchel Demo Studio')).toBeInTheDocument()
  expect(within(card).queryByText('5,000 sats')).not.toBeInTheDocument()
  expect(container.querySelector(`img[src="${cover.url}"]`)).not.toBeNull()
  expect(within(screen.getByRole('button', { name: /Lantern Drift, 2,100 sats/ })).queryByText('✓ Owned')).not.toBeInTheDocument()
})

test('a game bought after the page was fetched shows owned: the library says so', async () => {
  answer(bridge.Games, { games: cards })
  renderScreen(<Store />, { library: libraryView([libGame({}, { slug: 'pocket-orbits', owned: true })]) })
  const card = await screen.findByRole('button', { name: 'Pocket Orbits, in your library' })
  expect(within(card).getByText('✓ Owned')).toBeInTheDocument()
  expect(screen.getByRole('button', { name: /Lantern Drift, 2,100 sats/ })).toBeInTheDocument()
})

test('a game of the library the identity does not own (a guest purchase) is not marked owned', async () => {
  answer(bridge.Games, { games: cards })
  renderScreen(<Store />, { library: libraryView([libGame({}, { slug: 'pocket-orbits', owned: false, guest: true })]) })
  expect(await screen.findByRole('button', { name: /Pocket Orbits, 5,000 sats/ })).toBeInTheDocument()
})
