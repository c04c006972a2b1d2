import { render, screen } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { useState } from 'react'
import type { Status } from '../api'
import { answer, bridge, fail, status } from '../test/fixtures'
import Welcome from './Welcome'

function Harness({ onDone, over }: { onDone: () => void; over?: Partial<Status> }) {
  const [st, setSt] = useState<Status>(status({ identity: undefined, ...over }))
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
  expect(
    screen.getByText(/lives in your operating system's keyring \(the Secret Service: GNOME Keyring or KWallet\), never in a file/),
  ).toBeInTheDocument()
  await userEvent.click(screen.getByRole('button', { name: 'Continue to the store' }))
  expect(onDone).toHaveBeenCalled()
})

const mac = '/Users/p/Library/Application Support/Satchel'
const windows = { local: 'C:\\Users\\p\\AppData\\Local\\Satchel', roaming: 'C:\\Users\\p\\AppData\\Roaming\\Satchel' }

test.each([
  {
    os: 'windows',
    keyring: 'Windows Credential Manager',
    dirs: { data: windows.local, config: windows.roaming, state: windows.local },
  },
  { os: 'darwin', keyring: 'the macOS Keychain', dirs: { data: mac, config: mac, state: mac } },
  { os: 'linux', keyring: 'the Secret Service: GNOME Keyring or KWallet', dirs: status().dirs },
])('on $os, the first screen names $keyring and the folders', ({ os, keyring, dirs }) => {
  render(<Harness onDone={vi.fn()} over={{ os, dirs }} />)
  expect(screen.getByText(`🔒 Satchel keeps secret keys only in your OS keyring (${keyring}), never in a file.`)).toBeInTheDocument()
  const folders = screen.getByText(/Games and the launcher's files/)
  expect(folders).toHaveTextContent(`Games and the launcher's files: ${dirs.data}; settings: ${dirs.config}`)
  if (dirs.state === dirs.data) expect(folders).not.toHaveTextContent('what is installed where')
  else expect(folders).toHaveTextContent(`what is installed where: ${dirs.state}.`)
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
