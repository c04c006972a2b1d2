import { screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import type { UploadProgress } from '../api'
import { emit } from '../test/bus'
import { answer, bridge, devGame, fail, release, renderScreen } from '../test/fixtures'
import Developer, { buildStatus } from './Developer'

const devAccount = { pubkey: 'aa', npub: 'npub1aa', developer: true, payout_address: 'dev@wallet.example' }

test('without an identity it says how to start', async () => {
  fail(bridge.Account, 'no identity: create or import one first')
  const { go } = renderScreen(<Developer />)
  expect(await screen.findByText('Sell your games on Satchel')).toBeInTheDocument()
  await userEvent.click(screen.getByRole('button', { name: 'Go to Account' }))
  expect(go).toHaveBeenCalledWith({ name: 'account' })
})

test('an error loading the account', async () => {
  fail(bridge.Account, 'cannot reach the Satchel server')
  renderScreen(<Developer />)
  expect(await screen.findByRole('alert')).toHaveTextContent('cannot reach the Satchel server')
})

test('becoming a developer with a Lightning Address', async () => {
  answer(bridge.Account, { ...devAccount, developer: false, payout_address: undefined })
  answer(bridge.BecomeDeveloper, devAccount)
  answer(bridge.MyGames, [])
  renderScreen(<Developer />)
  await userEvent.type(await screen.findByRole('textbox', { name: 'Your Lightning Address' }), 'dev@wallet.example')
  await userEvent.click(screen.getByRole('button', { name: 'Become a developer' }))
  expect(bridge.BecomeDeveloper).toHaveBeenCalledWith('dev@wallet.example')
  expect(await screen.findByRole('heading', { name: 'New game' })).toBeInTheDocument()
  expect(screen.getByText('Paid to ⚡ dev@wallet.example')).toBeInTheDocument()
})

test('creating a game, with a preview of its description', async () => {
  answer(bridge.Account, devAccount)
  answer(bridge.MyGames, [])
  answer(bridge.CreateGame, devGame({ id: 'g9', slug: 'new-game', title: 'New Game', status: 'DRAFT', price_msat: 1_500_000 }))
  renderScreen(<Developer />)
  await userEvent.type(await screen.findByRole('textbox', { name: /Slug/ }), 'new-game')
  await userEvent.type(screen.getByRole('textbox', { name: 'Title' }), 'New Game')
  await userEvent.clear(screen.getByRole('textbox', { name: /Price/ }))
  await userEvent.type(screen.getByRole('textbox', { name: /Price/ }), '1500')
  await userEvent.type(screen.getByRole('textbox', { name: 'Description (Markdown)' }), '# Hello **there**')
  await userEvent.click(screen.getByRole('tab', { name: 'Preview' }))
  expect(await screen.findByRole('heading', { name: 'Hello there' })).toBeInTheDocument()
  await userEvent.click(screen.getByRole('button', { name: 'Create game' }))
  expect(bridge.CreateGame).toHaveBeenCalledWith({ slug: 'new-game', title: 'New Game', summary: '', description_md: '# Hello **there**', price_msat: 1_500_000 })
  expect(await screen.findByRole('heading', { name: /New Game/ })).toBeInTheDocument()
})

test('release build states', () => {
  const up = (phase: string, error = ''): UploadProgress => ({ release_id: 'r1', phase, done: 0, total: 0, error })
  const build = { sha256: 'x', size: 1, file_count: 1, installed_bytes: 1 }
  expect(buildStatus(release()).text).toBe('No build yet')
  expect(buildStatus(release(), up('hashing')).text).toBe('Uploading')
  expect(buildStatus(release(), up('uploading')).text).toBe('Uploading')
  expect(buildStatus(release(), up('checking')).text).toBe('Server checking')
  expect(buildStatus(release(), up('refused', 'not a zip')).text).toBe('Refused')
  expect(buildStatus(release({ build })).text).toBe('Ready to publish')
  expect(buildStatus(release({ build, published: true })).text).toBe('Published')
})

test('a release: preview of what changed, the upload in phases, publishing', async () => {
  const game = devGame({
    releases: [
      release({ id: 'r2', version: '1.1.0' }),
      release({ id: 'r1', version: '1.0.0', published: true, published_at: '2025-01-01T00:00:00Z', build: { sha256: 'x', size: 1048576, file_count: 3, installed_bytes: 3145728 } }),
    ],
  })
  answer(bridge.Account, devAccount)
  answer(bridge.MyGames, [game])
  answer(bridge.PreviewBuild, {
    zip: '/b/v2.zip', size: 2097152, files: 4, installed_bytes: 4194304, against: '1.0.0',
    added: [{ path: 'levels/new.txt', size: 10 }], removed: [{ path: 'old.txt', old_size: 5 }],
    changed: [{ path: 'bin/game', size: 2048, old_size: 1024 }], unchanged: 2,
  })
  renderScreen(<Developer />)
  const r2 = await screen.findByRole('listitem', { name: 'Release 1.1.0' })
  expect(within(r2).getByText('No build yet')).toBeInTheDocument()
  expect(within(await screen.findByRole('listitem', { name: 'Release 1.0.0' })).getByText('Published')).toBeInTheDocument()

  await userEvent.type(within(r2).getByRole('textbox', { name: 'Build zip' }), '/b/v2.zip')
  await userEvent.click(within(r2).getByRole('button', { name: 'Preview changes' }))
  expect(bridge.PreviewBuild).toHaveBeenCalledWith('r2', '/b/v2.zip')
  const diff = await within(r2).findByLabelText('Changes against the previous release')
  expect(diff).toHaveTextContent('Against 1.0.0: 1 added, 1 removed, 1 changed, 2 unchanged.')
  expect(within(diff).getByText('levels/new.txt')).toBeInTheDocument()
  expect(within(diff).getByText('old.txt')).toBeInTheDocument()
  expect(within(diff).getByText('1.0 KiB → 2.0 KiB')).toBeInTheDocument()

  bridge.UploadBuild.mockResolvedValue()
  await userEvent.click(within(r2).getByRole('button', { name: 'Upload this build' }))
  expect(bridge.UploadBuild).toHaveBeenCalledWith('r2', '/b/v2.zip')
  emit('upload', { release_id: 'r2', phase: 'hashing', done: 1048576, total: 2097152, bytes_per_second: 1048576, eta: 1e9 })
  expect(await within(r2).findByText('1.0 MiB of 2.0 MiB · 1.0 MiB/s · 1 s left')).toBeInTheDocument()
  expect(within(r2).getByText('Hashing')).toHaveAttribute('aria-current', 'step')
  emit('upload', { release_id: 'r2', phase: 'uploading', done: 524288, total: 2097152, bytes_per_second: 262144, eta: 6e9 })
  expect(await within(r2).findByText('512 KiB of 2.0 MiB · 256 KiB/s · 6 s left')).toBeInTheDocument()
  expect(within(r2).getByText('Uploading', { selector: 'li' })).toHaveAttribute('aria-current', 'step')
  emit('upload', { release_id: 'r2', phase: 'checking', done: 2097152, total: 2097152 })
  expect(await within(r2).findByText(/The server checks the size/)).toBeInTheDocument()
  expect(within(r2).getByText('Server checking')).toBeInTheDocument()

  const ready = devGame({ releases: [release({ id: 'r2', version: '1.1.0', build: { sha256: 'y', size: 2097152, file_count: 4, installed_bytes: 4194304 } }), game.releases[1]] })
  answer(bridge.MyGames, [ready])
  emit('upload', { release_id: 'r2', phase: 'ready', done: 2097152, total: 2097152 })
  const publish = await screen.findByRole('button', { name: 'Publish 1.1.0' })
  // Once the build is there, only Publish remains.
  await waitFor(() => expect(within(r2).queryByRole('textbox', { name: /build/i })).not.toBeInTheDocument())
  expect(within(r2).queryByRole('button', { name: 'Preview changes' })).not.toBeInTheDocument()
  expect(within(r2).queryByRole('button', { name: 'Upload this build' })).not.toBeInTheDocument()
  answer(bridge.PublishRelease, release({ id: 'r2', published: true }))
  await userEvent.click(publish)
  expect(bridge.PublishRelease).toHaveBeenCalledWith('r2')
})

test('a published release of a Draft game offers to list it', async () => {
  const published = release({ published: true, published_at: '2025-01-01T00:00:00Z' })
  answer(bridge.Account, devAccount)
  answer(bridge.MyGames, [devGame({ status: 'DRAFT', releases: [published] })])
  answer(bridge.SetGameStatus, devGame({ status: 'LISTED' }))
  renderScreen(<Developer />)
  expect(await screen.findByText('Lantern Drift is still a Draft')).toBeInTheDocument()
  answer(bridge.MyGames, [devGame({ status: 'LISTED', releases: [published] })])
  await userEvent.click(screen.getByRole('button', { name: 'List it in the store' }))
  expect(bridge.SetGameStatus).toHaveBeenCalledWith('g1', 'LISTED')
  await waitFor(() => expect(screen.queryByText('Lantern Drift is still a Draft')).not.toBeInTheDocument())
})

test('prices are typed in sats; a bad one is explained in sats, and errors go once the field changes', async () => {
  answer(bridge.Account, devAccount)
  answer(bridge.MyGames, [devGame()])
  fail(bridge.UpdateGame, 'a price of 0.5 sats is not allowed: a game is free (0) or costs 1 to 100,000,000 sats')
  renderScreen(<Developer />)
  await userEvent.click(await screen.findByRole('tab', { name: 'Details' }))
  const priceField = screen.getByRole('textbox', { name: /Price/ })
  expect(priceField).toHaveValue('2100')
  await userEvent.clear(priceField)
  await userEvent.type(priceField, '99999999999999999999')
  await userEvent.click(screen.getByRole('button', { name: 'Save changes' }))
  expect(await screen.findByRole('alert')).toHaveTextContent('100,000,000,000,000,000,000 sats is too large for a price.')
  expect(bridge.UpdateGame).not.toHaveBeenCalled()
  await userEvent.clear(priceField)
  await userEvent.type(priceField, 'ten')
  await userEvent.click(screen.getByRole('button', { name: 'Save changes' }))
  expect(await screen.findByRole('alert')).toHaveTextContent('“ten” is not a price in sats')
  await userEvent.clear(priceField)
  await userEvent.type(priceField, '0.5')
  await userEvent.click(screen.getByRole('button', { name: 'Save changes' }))
  expect(bridge.UpdateGame).toHaveBeenCalledWith('g1', expect.objectContaining({ price_msat: 500 }))
  expect(await screen.findByRole('alert')).toHaveTextContent('a price of 0.5 sats is not allowed')
  await userEvent.type(priceField, '0')
  expect(screen.queryByRole('alert')).not.toBeInTheDocument()
})

test('a refused build shows the reason', async () => {
  answer(bridge.Account, devAccount)
  answer(bridge.MyGames, [devGame({ releases: [release({ upload: { release_id: 'r1', phase: 'refused', done: 0, total: 0, error: 'the zip holds no files (rule "empty")' } })] })])
  renderScreen(<Developer />)
  const r = await screen.findByRole('listitem', { name: 'Release 1.0.0' })
  expect(within(r).getByText('Refused')).toBeInTheDocument()
  expect(within(r).getByRole('alert')).toHaveTextContent('The server refused this buildthe zip holds no files')
})

test('a zip that cannot be a build is caught before uploading', async () => {
  answer(bridge.Account, devAccount)
  answer(bridge.MyGames, [devGame({ releases: [release()] })])
  fail(bridge.PreviewBuild, '/b/x.zip cannot be a build: "../evil": path is not relative')
  renderScreen(<Developer />)
  const r = await screen.findByRole('listitem', { name: 'Release 1.0.0' })
  await userEvent.type(within(r).getByRole('textbox', { name: 'Build zip' }), '/b/x.zip')
  await userEvent.click(within(r).getByRole('button', { name: 'Preview changes' }))
  expect(await within(r).findByRole('alert')).toHaveTextContent('cannot be a build')
  expect(within(r).queryByRole('button', { name: 'Upload this build' })).not.toBeInTheDocument()
})

test('creating a release', async () => {
  answer(bridge.Account, devAccount)
  answer(bridge.MyGames, [devGame()])
  answer(bridge.CreateRelease, release({ version: '2.0.0' }))
  renderScreen(<Developer />)
  expect(await screen.findByText(/No releases yet/)).toBeInTheDocument()
  await userEvent.type(screen.getByRole('textbox', { name: 'Version' }), '2.0.0')
  await userEvent.type(screen.getByRole('textbox', { name: /Release notes/ }), 'Big one')
  await userEvent.click(screen.getByRole('button', { name: 'Create release' }))
  expect(bridge.CreateRelease).toHaveBeenCalledWith('g1', '2.0.0', 'Big one')
  await waitFor(() => expect(bridge.MyGames).toHaveBeenCalledTimes(2))
})

test('editing details and the listing', async () => {
  answer(bridge.Account, devAccount)
  answer(bridge.MyGames, [devGame({ status: 'DRAFT' })])
  answer(bridge.UpdateGame, devGame())
  answer(bridge.SetGameStatus, devGame({ status: 'LISTED' }))
  renderScreen(<Developer />)
  await userEvent.click(await screen.findByRole('tab', { name: 'Details' }))
  expect(screen.getByRole('textbox', { name: /Slug/ })).toBeDisabled()
  await userEvent.clear(screen.getByRole('textbox', { name: 'Title' }))
  await userEvent.type(screen.getByRole('textbox', { name: 'Title' }), 'Lantern Drift DX')
  await userEvent.click(screen.getByRole('button', { name: 'Save changes' }))
  expect(bridge.UpdateGame).toHaveBeenCalledWith('g1', expect.objectContaining({ title: 'Lantern Drift DX', price_msat: 2_100_000 }))
  await userEvent.selectOptions(screen.getByRole('combobox', { name: 'Who can see it' }), 'LISTED')
  await userEvent.click(screen.getByRole('button', { name: 'Change listing' }))
  expect(bridge.SetGameStatus).toHaveBeenCalledWith('g1', 'LISTED')
})

test('sales, payouts and the ledger', async () => {
  answer(bridge.Account, devAccount)
  answer(bridge.MyGames, [devGame()])
  answer(bridge.Sales, {
    totals: { count: 1, gross_msat: 2_100_000, fee_msat: 210_000, net_msat: 1_890_000, sent_msat: 1_890_000, pending_msat: 0, failed_msat: 0 },
    sales: [{ purchase_id: 'p1', game_title: 'Lantern Drift', status: 'PAID', price_msat: 2_100_000, fee_msat: 210_000, net_msat: 1_890_000, paid_at: '2025-01-02T10:00:00Z', payout_status: 'SENT' }],
  })
  answer(bridge.Payouts, [{ id: 'po1', purchase_id: 'p1', ln_address: 'dev@wallet.example', amount_msat: 1_890_000, status: 'SENT', attempts: 1 }])
  answer(bridge.Ledger, [{ id: 'l1', purchase_id: 'p1', type: 'DEVELOPER_NET', amount_msat: 1_890_000 }])
  renderScreen(<Developer />)
  await userEvent.click(await screen.findByRole('tab', { name: 'Sales & payouts' }))
  expect(await screen.findAllByText('1,890 sats', { selector: 'dd' })).toHaveLength(2) // yours, paid out
  expect(screen.getByText('210 sats', { selector: 'dd' })).toBeInTheDocument()
  expect(await screen.findByText('dev@wallet.example')).toBeInTheDocument()
  expect(await screen.findByText('developer net')).toBeInTheDocument()
})

test('no sales yet', async () => {
  answer(bridge.Account, devAccount)
  answer(bridge.MyGames, [devGame()])
  answer(bridge.Sales, { totals: { count: 0, gross_msat: 0, fee_msat: 0, net_msat: 0, sent_msat: 0, pending_msat: 0, failed_msat: 0 }, sales: [] })
  answer(bridge.Payouts, [])
  answer(bridge.Ledger, [])
  renderScreen(<Developer />)
  await userEvent.click(await screen.findByRole('tab', { name: 'Sales & payouts' }))
  expect(await screen.findByText('No sales yet.')).toBeInTheDocument()
  expect(await screen.findByText('No payouts yet.')).toBeInTheDocument()
})

test('the change preview warns of the platforms the build cannot be launched on', async () => {
  answer(bridge.Account, devAccount)
  answer(bridge.MyGames, [devGame({ releases: [release()] })])
  answer(bridge.PreviewBuild, {
    zip: '/b/v1.zip', size: 1024, files: 2, installed_bytes: 2048, added: [], removed: [], changed: [], unchanged: 0,
    gaps: [
      { platform: 'windows-amd64', reason: 'satchel.toml has no [launch.windows-amd64] or [launch.windows] section' },
      { platform: 'darwin-arm64', reason: 'satchel.toml has no [launch.darwin-arm64] or [launch.darwin] section' },
    ],
  })
  renderScreen(<Developer />)
  const r = await screen.findByRole('listitem', { name: 'Release 1.0.0' })
  await userEvent.type(within(r).getByRole('textbox', { name: 'Build zip' }), '/b/v1.zip')
  await userEvent.click(within(r).getByRole('button', { name: 'Preview changes' }))
  const diff = await within(r).findByLabelText('Changes against the previous release')
  expect(within(diff).getByText('No launch entry for windows-amd64, darwin-arm64')).toBeInTheDocument()
  expect(within(diff).getByText(/no \[launch\.windows-amd64\] or \[launch\.windows\] section/)).toBeInTheDocument()
  expect(within(r).getByRole('button', { name: 'Upload this build' })).toBeEnabled()
})

test('the cover and screenshots: chosen, uploaded, removed, and a refusal shown', async () => {
  const shot = { id: 'm2', url: 'http://s/media/g1/2.png', width: 1280, height: 720 }
  answer(bridge.Account, devAccount)
  answer(bridge.MyGames, [devGame({ status: 'LISTED', screenshots: [shot] })])
  renderScreen(<Developer />)
  await userEvent.click(await screen.findByRole('tab', { name: 'Cover & screenshots' }))
  expect(screen.getByRole('heading', { name: 'Screenshots (1 of 8)' })).toBeInTheDocument()
  answer(bridge.ChooseImage, '/art/cover.png')
  answer(bridge.UploadImage, devGame())
  await userEvent.click(screen.getByRole('button', { name: 'Choose a cover…' }))
  expect(bridge.UploadImage).toHaveBeenCalledWith('g1', true, '/art/cover.png')
  await waitFor(() => expect(bridge.MyGames).toHaveBeenCalledTimes(2))

  answer(bridge.DeleteImage, devGame())
  await userEvent.click(within(screen.getByRole('list', { name: 'Screenshots' })).getByRole('button', { name: 'Remove' }))
  expect(bridge.DeleteImage).toHaveBeenCalledWith('g1', 'm2')

  answer(bridge.ChooseImage, '/art/notes.txt')
  fail(bridge.UploadImage, '/art/notes.txt is not a PNG, JPEG or WebP image')
  await userEvent.click(screen.getByRole('button', { name: 'Add a screenshot…' }))
  expect(await screen.findByRole('alert')).toHaveTextContent('is not a PNG, JPEG or WebP image')
})

test('the payout address and the studio name can be changed', async () => {
  answer(bridge.Account, devAccount)
  answer(bridge.MyGames, [devGame()])
  renderScreen(<Developer />)
  await userEvent.click(await screen.findByRole('button', { name: 'Change address' }))
  const field = screen.getByRole('textbox', { name: 'Your Lightning Address' })
  await userEvent.clear(field)
  await userEvent.type(field, 'nobody@nowhere.example')
  fail(bridge.BecomeDeveloper, 'Lightning Address nobody@nowhere.example: the domain nowhere.example does not resolve')
  await userEvent.click(screen.getByRole('button', { name: 'Change address' }))
  expect(await screen.findByRole('alert')).toHaveTextContent('does not resolve')
  answer(bridge.BecomeDeveloper, { ...devAccount, payout_address: 'me@wallet.example' })
  await userEvent.clear(field)
  await userEvent.type(field, 'me@wallet.example')
  await userEvent.click(screen.getByRole('button', { name: 'Change address' }))
  expect(await screen.findByText(/Paid to ⚡ me@wallet\.example/)).toBeInTheDocument()

  answer(bridge.SetStudio, { ...devAccount, payout_address: 'me@wallet.example', studio: 'Lantern Works' })
  await userEvent.click(screen.getByRole('button', { name: 'Set a studio name' }))
  await userEvent.type(screen.getByRole('textbox', { name: /Studio name/ }), 'Lantern Works')
  await userEvent.click(screen.getByRole('button', { name: 'Save' }))
  expect(bridge.SetStudio).toHaveBeenCalledWith('Lantern Works')
  expect(await screen.findByText(/Lantern Works · Paid to ⚡ me@wallet\.example/)).toBeInTheDocument()
})
