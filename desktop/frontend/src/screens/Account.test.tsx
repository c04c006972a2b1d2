import { screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { answer, bridge, fail, purchase, renderScreen, status } from '../test/fixtures'
import Account from './Account'

const me = { pubkey: 'aa', npub: 'npub1meeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', active: true }
const dev = { pubkey: 'bb', npub: 'npub1devvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv', label: 'studio', active: false, created_at: '2025-01-01T00:00:00Z' }

test('the identity with its npub, and switching to another', async () => {
  answer(bridge.Identities, [me, dev])
  answer(bridge.UseIdentity, status())
  renderScreen(<Account />)
  expect(await screen.findByLabelText('Your public key (npub)')).toHaveTextContent(me.npub)
  expect(screen.getByText(/lives in your OS keyring/)).toBeInTheDocument()
  expect(screen.getByDisplayValue('studio')).toBeInTheDocument()
  await userEvent.click(screen.getByRole('button', { name: 'Use this identity' }))
  expect(bridge.UseIdentity).toHaveBeenCalledWith('bb')
})

test('importing a key', async () => {
  answer(bridge.Identities, [me])
  answer(bridge.ImportIdentity, status())
  renderScreen(<Account />)
  await userEvent.type(await screen.findByLabelText('Import a secret key (nsec or hex)'), 'nsec1xyz')
  await userEvent.click(screen.getByRole('button', { name: 'Import and use' }))
  expect(bridge.ImportIdentity).toHaveBeenCalledWith('nsec1xyz', '')
})

test('claiming a receipt', async () => {
  answer(bridge.Identities, [me])
  answer(bridge.ClaimReceipt, purchase({ status: 'PAID', title: 'Signal Garden', amount_msat: 1_000_000 }))
  renderScreen(<Account />)
  await userEvent.type(await screen.findByRole('textbox', { name: 'Receipt code' }), 'ABCD-1234')
  await userEvent.click(screen.getByRole('button', { name: 'Claim' }))
  expect(bridge.ClaimReceipt).toHaveBeenCalledWith('ABCD-1234')
  expect(await screen.findByText(/Signal Garden \(1,000 sats\) is now in your library/)).toBeInTheDocument()
})

test('a receipt that does not exist', async () => {
  answer(bridge.Identities, [me])
  fail(bridge.ClaimReceipt, 'no purchase has this receipt code: check it for typos')
  renderScreen(<Account />)
  await userEvent.type(await screen.findByRole('textbox', { name: 'Receipt code' }), 'NOPE')
  await userEvent.click(screen.getByRole('button', { name: 'Claim' }))
  expect(await screen.findByRole('alert')).toHaveTextContent('check it for typos')
})

test('a guest cannot claim before having an identity', async () => {
  answer(bridge.Identities, [])
  renderScreen(<Account />)
  expect(await screen.findByText(/You browse as a guest/)).toBeInTheDocument()
  await userEvent.type(screen.getByRole('textbox', { name: 'Receipt code' }), 'ABCD')
  expect(screen.getByRole('button', { name: 'Claim' })).toBeDisabled()
})

test('creating an identity asks before it switches', async () => {
  answer(bridge.Identities, [me])
  answer(bridge.CreateIdentity, status())
  renderScreen(<Account />)
  await userEvent.click(await screen.findByRole('button', { name: 'Create a new identity' }))
  const dialog = screen.getByRole('dialog', { name: 'Create a new identity?' })
  expect(dialog).toHaveTextContent('your library looks empty until you switch back')
  expect(bridge.CreateIdentity).not.toHaveBeenCalled()
  await userEvent.click(within(dialog).getByRole('button', { name: 'Create and switch' }))
  expect(bridge.CreateIdentity).toHaveBeenCalledWith('')
})

test('a guest creates an identity without being asked', async () => {
  answer(bridge.Identities, [])
  answer(bridge.CreateIdentity, status())
  renderScreen(<Account />)
  await userEvent.click(await screen.findByRole('button', { name: 'Create a new identity' }))
  expect(screen.queryByRole('dialog')).not.toBeInTheDocument()
  expect(bridge.CreateIdentity).toHaveBeenCalled()
})

test('labelling an identity', async () => {
  answer(bridge.Identities, [me, dev])
  answer(bridge.LabelIdentity, { ...me, label: 'home' })
  renderScreen(<Account />)
  const [mine] = await screen.findAllByRole('textbox', { name: 'Label' })
  await userEvent.type(mine, 'home')
  await userEvent.click(screen.getByRole('button', { name: 'Save label' }))
  expect(bridge.LabelIdentity).toHaveBeenCalledWith('aa', 'home')
})

test('removing an identity shows its npub and offers an export first', async () => {
  answer(bridge.Identities, [me, dev])
  answer(bridge.ExportIdentity, 'nsec1devsecret')
  answer(bridge.RemoveIdentity, status())
  renderScreen(<Account />)
  await userEvent.click(await screen.findByRole('button', { name: 'Remove…' }))
  const dialog = screen.getByRole('dialog', { name: 'Remove studio?' })
  expect(within(dialog).getByLabelText('Public key (npub) of the identity to remove')).toHaveTextContent(dev.npub)
  await userEvent.click(within(dialog).getByRole('button', { name: 'Export its secret key first' }))
  expect(bridge.ExportIdentity).toHaveBeenCalledWith('bb')
  expect(await within(dialog).findByLabelText('Its secret key (nsec)')).toHaveTextContent('nsec1devsecret')
  expect(bridge.RemoveIdentity).not.toHaveBeenCalled()
  await userEvent.click(within(dialog).getByRole('button', { name: 'Remove from this computer' }))
  expect(bridge.RemoveIdentity).toHaveBeenCalledWith('bb')
  expect(screen.queryByRole('dialog')).not.toBeInTheDocument()
})
