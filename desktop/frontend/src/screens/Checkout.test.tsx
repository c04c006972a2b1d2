import { act, screen, waitFor } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { emit } from '../test/bus'
import { answer, bridge, fail, purchase, renderScreen } from '../test/fixtures'
import Checkout from './Checkout'

const open = (guest = false, onPaid = vi.fn()) =>
  renderScreen(<Checkout slug="lantern-drift" title="Lantern Drift" guest={guest} onClose={vi.fn()} onPaid={onPaid} />)

test('while the invoice is being made', async () => {
  bridge.Buy.mockReturnValue(new Promise(() => {}) as never)
  open()
  expect(screen.getByRole('status')).toHaveTextContent('Asking the server for an invoice')
  await act(() => Promise.resolve())
})

test('pending: QR code, invoice with copy, amount, countdown, test money', async () => {
  answer(bridge.Buy, purchase())
  bridge.PayTestMoney.mockResolvedValue()
  open()
  const qr = await screen.findByRole('img', { name: 'QR code of the Lightning invoice' })
  await waitFor(() => expect(qr.getAttribute('src')).toMatch(/^data:image\/svg\+xml/))
  expect(decodeURIComponent(qr.getAttribute('src')!)).toContain('<svg')
  expect(screen.getByLabelText('Lightning invoice')).toHaveTextContent('lnbcrt21u1pjtestinvoice')
  expect(screen.getByText('2,100 sats')).toBeInTheDocument()
  expect(screen.getByText(/^1[45]:\d\d$/)).toBeInTheDocument()
  expect(screen.getByRole('note')).toHaveTextContent('this server takes no real money')
  await userEvent.click(screen.getByRole('button', { name: 'Copy invoice' }))
  expect(await screen.findByRole('button', { name: 'Copied' })).toBeInTheDocument()
  await userEvent.click(screen.getByRole('button', { name: 'Pay with test money' }))
  expect(bridge.PayTestMoney).toHaveBeenCalledWith(purchase().invoice)
  await waitFor(() => expect(bridge.Ready).toHaveBeenCalledWith('checkout'))
})

test('paid, live from the purchase stream', async () => {
  answer(bridge.Buy, purchase())
  const onPaid = vi.fn()
  open(false, onPaid)
  await screen.findByRole('img', { name: /QR code/ })
  emit('purchase', purchase({ id: 'other', status: 'PAID' }))
  expect(screen.queryByText('Paid. The game is yours.')).not.toBeInTheDocument()
  emit('purchase', purchase({ status: 'PAID' }))
  expect(await screen.findByText('Paid. The game is yours.')).toBeInTheDocument()
  expect(onPaid).toHaveBeenCalledTimes(1)
  expect(screen.queryByRole('img', { name: /QR code/ })).not.toBeInTheDocument()
})

test('expired: a new invoice', async () => {
  answer(bridge.Buy, purchase())
  open()
  await screen.findByRole('img', { name: /QR code/ })
  emit('purchase', purchase({ status: 'EXPIRED' }))
  expect(await screen.findByText('This invoice expired')).toBeInTheDocument()
  answer(bridge.Buy, purchase({ id: 'p2' }))
  await userEvent.click(screen.getByRole('button', { name: 'New invoice' }))
  expect(await screen.findByRole('img', { name: /QR code/ })).toBeInTheDocument()
  expect(bridge.Buy).toHaveBeenCalledTimes(2)
  expect(bridge.CloseCheckout).toHaveBeenCalledWith('p1')
})

test('expired by the clock before the server says so', async () => {
  answer(bridge.Buy, purchase({ expires_at: new Date(Date.now() + 1200).toISOString() }))
  open()
  await screen.findByRole('img', { name: /QR code/ })
  await act(() => new Promise((r) => setTimeout(r, 1800)))
  expect(screen.getByText('This invoice expired')).toBeInTheDocument()
})

test('failed: the reason, and a new invoice', async () => {
  answer(bridge.Buy, purchase())
  open()
  await screen.findByRole('img', { name: /QR code/ })
  emit('purchase', purchase({ status: 'FAILED', failure_reason: 'the payment route failed.' }))
  expect(await screen.findByRole('alert')).toHaveTextContent('The payment failedthe payment route failed.')
  expect(screen.getByRole('button', { name: 'New invoice' })).toBeInTheDocument()
})

test('a guest keeps the receipt code, shown once with a warning', async () => {
  answer(bridge.Buy, purchase({ guest: true, receipt_code: 'ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-23' }))
  open(true)
  expect(await screen.findByLabelText('Receipt code')).toHaveTextContent('ABCD-EFGH')
  expect(screen.getByText(/shown only once/)).toBeInTheDocument()
  expect(bridge.Buy).toHaveBeenCalledWith('lantern-drift', true)
  emit('purchase', purchase({ guest: true, status: 'PAID' }))
  expect(await screen.findByText('Paid. The game is yours.')).toBeInTheDocument()
  expect(screen.getByLabelText('Receipt code')).toHaveTextContent('ABCD-EFGH')
})

test('a purchase the server refuses', async () => {
  fail(bridge.Buy, 'too many purchases: try again in a minute')
  open()
  expect(await screen.findByRole('alert')).toHaveTextContent('too many purchases')
  answer(bridge.Buy, purchase())
  await userEvent.click(screen.getByRole('button', { name: 'Try again' }))
  expect(await screen.findByRole('img', { name: /QR code/ })).toBeInTheDocument()
})

test('a free game is paid at once', async () => {
  answer(bridge.Buy, purchase({ status: 'PAID', amount_msat: 0, invoice: undefined }))
  const onPaid = vi.fn()
  open(false, onPaid)
  expect(await screen.findByText('Paid. The game is yours.')).toBeInTheDocument()
  expect(onPaid).toHaveBeenCalled()
})

test('a dropped line: reconnecting, the same invoice, then paid', async () => {
  answer(bridge.Buy, purchase())
  const onPaid = vi.fn()
  open(false, onPaid)
  await screen.findByRole('img', { name: /QR code/ })
  emit('purchase', purchase({ reconnecting: true }))
  expect(screen.getByRole('status')).toHaveTextContent('Reconnecting to the server')
  expect(screen.getByLabelText('Lightning invoice')).toHaveTextContent('lnbcrt21u1pjtestinvoice')
  expect(screen.queryByRole('button', { name: /Try again|New invoice/ })).not.toBeInTheDocument()
  emit('purchase', purchase({ status: 'PAID' }))
  expect(await screen.findByText('Paid. The game is yours.')).toBeInTheDocument()
  expect(onPaid).toHaveBeenCalledTimes(1)
  expect(bridge.Buy).toHaveBeenCalledTimes(1)
})

test('following the payment fails: the invoice stays, and Try again follows it, no new one', async () => {
  answer(bridge.Buy, purchase())
  open()
  await screen.findByRole('img', { name: /QR code/ })
  emit('purchase-error', purchase({ failure_reason: 'following the payment failed: the server has no such thing' }))
  expect(await screen.findByRole('alert')).toHaveTextContent('can still be paid')
  bridge.Buy.mockReturnValue(new Promise(() => {}) as never)
  await userEvent.click(screen.getByRole('button', { name: 'Try again' }))
  expect(bridge.Buy).toHaveBeenCalledTimes(2)
  expect(screen.getByLabelText('Lightning invoice')).toHaveTextContent('lnbcrt21u1pjtestinvoice')
  expect(bridge.CloseCheckout).not.toHaveBeenCalled()
})
