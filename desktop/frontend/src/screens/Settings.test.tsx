import { screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { emit } from '../test/bus'
import { answer, bridge, fail, renderScreen } from '../test/fixtures'
import Settings from './Settings'

const settings = { server: 'http://127.0.0.1:8080', library: '/home/p/.local/share/satchel/library', moving: false, speed_limit: 0, auto_update: true, keep_downloads: false, server_fixed: false }

test('loading, then an error', async () => {
  fail(bridge.Settings, 'settings.json is not valid settings')
  renderScreen(<Settings />)
  expect(screen.getByRole('status')).toHaveTextContent('Loading')
  expect(await screen.findByRole('alert')).toHaveTextContent('settings.json is not valid settings')
})

test('server, speed limit and auto-update', async () => {
  answer(bridge.Settings, settings)
  answer(bridge.SetServer, {})
  renderScreen(<Settings />)
  const url = await screen.findByRole('textbox', { name: 'Backend URL' })
  expect(url).toHaveValue('http://127.0.0.1:8080')
  await userEvent.clear(url)
  await userEvent.type(url, 'https://satchel.example')
  await userEvent.click(screen.getByRole('button', { name: 'Save and reconnect' }))
  expect(bridge.SetServer).toHaveBeenCalledWith('https://satchel.example')
  expect(await screen.findByText('Connected to https://satchel.example.')).toBeInTheDocument()

  await userEvent.type(screen.getByRole('spinbutton', { name: /Limit/ }), '512')
  await userEvent.click(screen.getByRole('button', { name: 'Apply' }))
  expect(bridge.SetSpeedLimit).toHaveBeenCalledWith(512 * 1024)
  expect(await screen.findByText('Downloads are limited to 512 KiB/s.')).toBeInTheDocument()

  const auto = screen.getByRole('checkbox', { name: /automatically/ })
  expect(auto).toBeChecked()
  await userEvent.click(auto)
  expect(bridge.SetAutoUpdate).toHaveBeenCalledWith(false)
})

test('keep downloads', async () => {
  answer(bridge.Settings, settings)
  renderScreen(<Settings />)
  const keep = await screen.findByRole('checkbox', { name: /Keep downloads/ })
  expect(keep).not.toBeChecked()
  await userEvent.click(keep)
  expect(bridge.SetKeepDownloads).toHaveBeenCalledWith(true)
  expect(keep).toBeChecked()
})

test('a server fixed by SATCHEL_SERVER cannot be changed here', async () => {
  answer(bridge.Settings, { ...settings, server_fixed: true })
  renderScreen(<Settings />)
  expect(await screen.findByRole('textbox', { name: 'Backend URL' })).toBeDisabled()
  expect(screen.getByText('Set by SATCHEL_SERVER for this launcher.')).toBeInTheDocument()
})

test('moving the library shows its progress and its end', async () => {
  answer(bridge.Settings, settings)
  answer(bridge.ChooseFolder, '/mnt/big/games')
  renderScreen(<Settings />)
  await userEvent.click(await screen.findByRole('button', { name: 'Choose…' }))
  expect(screen.getByRole('textbox', { name: 'Move it to' })).toHaveValue('/mnt/big/games')
  await userEvent.click(screen.getByRole('button', { name: 'Move library' }))
  expect(bridge.MoveLibrary).toHaveBeenCalledWith('/mnt/big/games')
  emit('move', { to: '/mnt/big/games', copied: 1048576, total: 4194304, finished: false })
  expect(await screen.findByRole('progressbar', { name: 'Moving the library' })).toHaveAttribute('aria-valuenow', '25')
  expect(screen.getByText(/1.0 MiB of 4.0 MiB/)).toBeInTheDocument()
  emit('move', { to: '/mnt/big/games', copied: 0, total: 0, finished: true, error: 'no space left on device.' })
  expect(await screen.findByRole('alert')).toHaveTextContent('no space left on device. Moving again resumes it.')
  emit('move', { to: '/mnt/big/games', copied: 0, total: 0, finished: true })
  expect(await screen.findByText('The library is now in /mnt/big/games.')).toBeInTheDocument()
})

test('exporting the identity asks first', async () => {
  answer(bridge.Settings, settings)
  answer(bridge.ExportIdentity, 'nsec1secretsecret')
  renderScreen(<Settings />)
  await userEvent.click(await screen.findByRole('button', { name: 'Export identity…' }))
  const ask = screen.getByRole('dialog', { name: 'Show your secret key?' })
  expect(bridge.ExportIdentity).not.toHaveBeenCalled()
  await userEvent.click(within(ask).getByRole('button', { name: 'Cancel' }))
  expect(screen.queryByText('nsec1secretsecret')).not.toBeInTheDocument()
  await userEvent.click(screen.getByRole('button', { name: 'Export identity…' }))
  await userEvent.click(screen.getByRole('button', { name: 'Show my secret key' }))
  expect(await screen.findByLabelText('Your secret key (nsec)')).toHaveTextContent('nsec1secretsecret')
  await userEvent.click(screen.getByRole('button', { name: 'Hide it' }))
  expect(screen.queryByText('nsec1secretsecret')).not.toBeInTheDocument()
})
