import { useEffect, useRef, useState } from 'react'
import { api, errorText, type Purchase } from '../api'
import { CopyButton, CopyField, InvoiceQR, Notice, Spinner } from '../components/ui'
import { countdown, sats } from '../format'
import { useAction, useEvent, useNow, useReady } from '../hooks'

/**
 * Paying for a game: a Lightning invoice as a QR code and as text, its amount and a
 * countdown, and its status live from the server's purchase stream. A guest gets a receipt
 * code, shown only here.
 */
export default function Checkout({
  slug,
  title,
  guest,
  onClose,
  onPaid,
}: {
  slug: string
  title: string
  guest: boolean
  onClose: () => void
  onPaid?: (p: Purchase) => void
}) {
  const [purchase, setPurchase] = useState<Purchase>()
  const [error, setError] = useState<string>()
  const [attempt, setAttempt] = useState(0)
  const pay = useAction()
  const now = useNow(500)

  // The purchase is created once per attempt, also when React runs effects twice (StrictMode).
  const mounted = useRef(true)
  const started = useRef(-1)
  const current = useRef<string>(undefined)
  useEffect(() => {
    mounted.current = true
    return () => {
      mounted.current = false
      if (current.current) void api.closeCheckout(current.current)
    }
  }, [])
  // While its invoice is open, the bridge answers every Buy of the game with the same purchase
  // (also after the dialog was closed, or the line dropped): asking again never makes a
  // second invoice. Only an expired or failed purchase is dropped for a new one.
  useEffect(() => {
    if (started.current === attempt) return
    started.current = attempt
    setError(undefined)
    api.buy(slug, guest).then(
      (p) => {
        if (!mounted.current) {
          void api.closeCheckout(p.id)
          return
        }
        if (current.current && current.current !== p.id) void api.closeCheckout(current.current)
        current.current = p.id
        setPurchase(p)
        if (p.status === 'PAID') onPaid?.(p)
      },
      (e: unknown) => mounted.current && setError(errorText(e)),
    )
  }, [slug, guest, attempt, onPaid])

  useEvent('purchase', (u) => {
    if (!purchase || u.id !== purchase.id) return
    setPurchase({ ...u, receipt_code: u.receipt_code || purchase.receipt_code })
    if (u.status === 'PAID' && purchase.status !== 'PAID') onPaid?.(u)
  })
  useEvent('purchase-error', (u) => {
    if (purchase && u.id === purchase.id) setError(u.failure_reason || 'following the payment failed')
  })

  const expiresAt = purchase?.expires_at ? new Date(purchase.expires_at as string).getTime() : 0
  const left = expiresAt ? expiresAt - now : Infinity
  const status = purchase?.status === 'PENDING' && left <= 0 ? 'EXPIRED' : purchase?.status
  const [qrShown, setQrShown] = useState(false)
  useReady('checkout', status === 'PENDING' && qrShown)
  /** Asks again: the same purchase while it is open (following it again). */
  const again = () => setAttempt((a) => a + 1)
  /** Drops an expired or failed purchase for a new invoice. */
  const newInvoice = () => {
    setPurchase(undefined)
    again()
  }

  return (
    <div className="checkout">
      {purchase?.test_money && (
        <div className="banner test-money inline" role="note">
          Test money only: this server takes no real money.
        </div>
      )}
      {error && (
        <Notice
          tone="error"
          title={purchase ? 'Satchel stopped following the payment' : 'The purchase could not go on'}
          action={<button type="button" className="btn" onClick={again}>Try again</button>}
        >
          {error}
          {purchase?.status === 'PENDING' && ' The invoice below can still be paid; trying again follows it, it makes no new one.'}
        </Notice>
      )}
      {!purchase && !error && <Spinner label="Asking the server for an invoice…" />}
      {purchase && (
        <>
          <p className="checkout-amount">
            <span className="muted">{title}</span>
            <strong>{sats(purchase.amount_msat)}</strong>
          </p>
          {status === 'PENDING' && purchase.invoice && (
            <div className="checkout-pending">
              <InvoiceQR invoice={purchase.invoice} onShown={() => setQrShown(true)} />
              <div className="checkout-side">
                {purchase.reconnecting ? (
                  <>
                    <p className="status-line" role="status">
                      <span className="spinner" aria-hidden="true" /> Reconnecting to the server…
                    </p>
                    <p className="muted small">The invoice can still be paid: Satchel sees the payment once the server answers.</p>
                  </>
                ) : (
                  <p className="status-line" role="status">
                    <span className="spinner" aria-hidden="true" /> Waiting for payment…
                  </p>
                )}
                <p className="muted small expires">
                  The invoice expires in <time className="countdown">{countdown(left)}</time>
                </p>
                <p className="muted small">Scan the code with a Lightning wallet, or copy the invoice:</p>
                <div className="invoice-box">
                  <code className="mono invoice" aria-label="Lightning invoice">
                    {purchase.invoice}
                  </code>
                  <CopyButton text={purchase.invoice} label="Copy invoice" />
                </div>
                {purchase.test_money && (
                  <button type="button" className="btn primary" disabled={pay.busy} onClick={() => pay.run(() => api.payTestMoney(purchase.invoice!))}>
                    {pay.busy ? 'Paying…' : 'Pay with test money'}
                  </button>
                )}
                {pay.error && <Notice tone="error" title="Test money payment failed">{pay.error}</Notice>}
              </div>
            </div>
          )}
          {status === 'PAID' && (
            <Notice tone="ok" title="Paid. The game is yours.">
              {purchase.amount_msat === 0 ? 'It is free: ' : ''}Satchel is installing it now; follow it in the Library.
            </Notice>
          )}
          {status === 'EXPIRED' && (
            <Notice tone="warn" title="This invoice expired" action={<button type="button" className="btn primary" onClick={newInvoice}>New invoice</button>}>
              Nothing was paid. Ask for a new invoice to try again.
            </Notice>
          )}
          {status === 'FAILED' && (
            <Notice tone="error" title="The payment failed" action={<button type="button" className="btn primary" onClick={newInvoice}>New invoice</button>}>
              {purchase.failure_reason || 'The invoice could not be paid.'} Nothing was taken.
            </Notice>
          )}
          {status === 'REFUNDED' && <Notice tone="info" title="This purchase was refunded" />}
          {purchase.receipt_code && (
            <section className="receipt" aria-labelledby="receipt-title">
              <h3 id="receipt-title">Your receipt code</h3>
              <CopyField value={purchase.receipt_code} label="Receipt code" />
              <p className="warn-text">
                Keep this code somewhere safe: it is shown only once, and it is your only proof of this guest purchase.
                Later, “Claim a receipt” in Account moves the game to your identity.
              </p>
            </section>
          )}
          <div className="row end">
            <button type="button" className="btn" onClick={onClose}>
              {status === 'PAID' ? 'Done' : 'Close'}
            </button>
          </div>
        </>
      )}
    </div>
  )
}
