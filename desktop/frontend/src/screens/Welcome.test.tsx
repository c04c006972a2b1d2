import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { useState } from 'react'
import type { Status } from '../api'
import { answer, bridge, fail, status } from '../test/fixtures'
import Welcome from './Welcome'

function Harness({ onDone }: { onDone: () => void }) {
  const [st, setSt] = useState<Status>(status({ identity: undefined }))
  return <Welcome status={st} onStatus={setSt} onDone={onDone} />
}

test('creating an identity shows its npub, a copy button and where the key lives', async () => {
  answer(bridge.CreateIdentity, status())
  const onDone = vi.fn()
  render(<Harness onDone={onDone} />)
  expect(screen.getByText(/only in your OS keyring/)).toBeInTheDocument()
  await userEvent.click(screen.getByRole('button', { name: 'Create my identity' }))
  expect(await screen.findByLabelText('Your public key (npub)')).toHaveTextContent(status().identity!.npub)
  expect(screen.getByRole('button', { name: 'Copy' })).toBeInTheDocument()
  expect(screen.getByText(/lives in your operating system's keyring, never in a file/)).toBeInTheDocument()
  await userEvent.click(screen.getByRole('button', { name: 'Continue to the store' }))
  expect(onDone).toHaveBeenCalled()
})

test('importing a key, and a key that is wrong', async () => {
  fail(bridge.ImportIdentity, 'not a secret key: give nsec1... or 64 hex characters')
  render(<Harness onDone={vi.fn()} />)
  const input = screen.getByLabelText('Secret key (nsec or hex)')
  await userEvent.type(input, 'nsec1bad')
  await userEvent.click(screen.getByRole('button', { name: 'Import' }))
  expect(await screen.findByRole('alert')).toHaveTextContent('not a secret key')
  answer(bridge.ImportIdentity, status())
  await userEvent.click(screen.getByRole('button', { name: 'Import' }))
  expect(await screen.findByText(/Your identity is imported/)).toBeInTheDocument()
  expect(bridge.ImportIdentity).toHaveBeenLastCalledWith('nsec1bad', '')
})

test('a keyring that is not there', async () => {
  fail(bridge.CreateIdentity, 'storing the secret key: the OS keyring is not available: start a Secret Service')
  render(<Harness onDone={vi.fn()} />)
  await userEvent.click(screen.getByRole('button', { name: 'Create my identity' }))
  expect(await screen.findByRole('alert')).toHaveTextContent('the OS keyring is not available')
})

test('browsing as a guest', async () => {
  const onDone = vi.fn()
  render(<Harness onDone={onDone} />)
  await userEvent.click(screen.getByRole('button', { name: 'Browse the store without an identity' }))
  expect(onDone).toHaveBeenCalled()
})
