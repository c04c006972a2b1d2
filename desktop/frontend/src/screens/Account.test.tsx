import { screen } from '@testing-library/react'
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
  expect(screen.getByText('studio')).toBeInTheDocument()
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
