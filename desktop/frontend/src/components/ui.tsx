// Small building blocks shared by the screens.
import { useEffect, useId, useRef, useState, type ReactNode } from 'react'
import { api, errorText } from '../api'

/** A copy-to-clipboard button that says when it copied. */
export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle')
  useEffect(() => {
    if (state === 'idle') return
    const t = setTimeout(() => setState('idle'), 2000)
    return () => clearTimeout(t)
  }, [state])
  return (
    <button
      type="button"
      className="btn small"
      onClick={() => api.copy(text).then(() => setState('copied'), () => setState('failed'))}
    >
      {state === 'copied' ? 'Copied' : state === 'failed' ? 'Copy failed' : label}
    </button>
  )
}

/** A value shown in full, selectable, with a copy button. */
export function CopyField({ value, label }: { value: string; label: string }) {
  return (
    <div className="copy-field">
      <code aria-label={label} className="mono">
        {value}
      </code>
      <CopyButton text={value} />
    </div>
  )
}

/** A progress bar with its text. */
export function ProgressBar({ value, label, indeterminate }: { value: number; label: string; indeterminate?: boolean }) {
  return (
    <div
      className={`progress${indeterminate ? ' indeterminate' : ''}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={indeterminate ? undefined : value}
    >
      <div className="progress-fill" style={{ width: indeterminate ? '100%' : `${value}%` }} />
    </div>
  )
}

type Tone = 'error' | 'warn' | 'info' | 'ok'

/** A message box; errors are announced to screen readers. */
export function Notice({ tone, title, children, action }: { tone: Tone; title?: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div className={`notice ${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      <div className="notice-body">
        {title && <strong>{title}</strong>}
        {children && <div>{children}</div>}
      </div>
      {action && <div className="notice-action">{action}</div>}
    </div>
  )
}

/** A failed load, with a retry. */
export function LoadError({ error, retry, what }: { error: string; retry: () => void; what: string }) {
  return (
    <Notice
      tone="error"
      title={`Could not load ${what}`}
      action={
        <button type="button" className="btn" onClick={retry}>
          Try again
        </button>
      }
    >
      {error}
    </Notice>
  )
}

export function Spinner({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  )
}

/** A modal dialog: focus moves into it, Escape closes it. */
export function Dialog({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const ref = useRef<HTMLDivElement>(null)
  const titleId = useId()
  const close = useRef(onClose)
  close.current = onClose
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null
    // The element marked data-autofocus, else the dialog itself (its title is read first).
    const first = ref.current?.querySelector<HTMLElement>('[data-autofocus]') ?? ref.current
    first?.focus()
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') close.current()
    }
    document.addEventListener('keydown', onKey)
    return () => {
      document.removeEventListener('keydown', onKey)
      before?.focus?.()
    }
  }, [])
  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className={`dialog${wide ? ' wide' : ''}`} role="dialog" aria-modal="true" aria-labelledby={titleId} ref={ref} tabIndex={-1}>
        <header className="dialog-head">
          <h2 id={titleId}>{title}</h2>
          <button type="button" className="btn ghost small" aria-label="Close" onClick={onClose}>
            ✕
          </button>
        </header>
        {children}
      </div>
    </div>
  )
}

/** Sanitised Markdown; the renderer loads on first use. Links open in the system browser. */
export function Markdown({ source }: { source: string }) {
  const [html, setHtml] = useState<string>()
  const [error, setError] = useState<string>()
  useEffect(() => {
    let live = true
    import('../markdown').then(
      (m) => live && setHtml(m.renderMarkdown(source)),
      (e: unknown) => live && setError(errorText(e)),
    )
    return () => {
      live = false
    }
  }, [source])
  if (error) return <p className="muted">{source}</p>
  if (html === undefined) return <div className="markdown placeholder" aria-busy="true" />
  return (
    <div
      className="markdown"
      dangerouslySetInnerHTML={{ __html: html }}
      onClick={(e) => {
        const a = (e.target as HTMLElement).closest('a')
        if (!a) return
        e.preventDefault()
        api.openURL(a.getAttribute('href') ?? '')
      }}
    />
  )
}

/** A Lightning invoice as a QR code of its lightning: URI; the encoder loads on first use. */
export function InvoiceQR({ invoice, onShown }: { invoice: string; onShown?: () => void }) {
  const [src, setSrc] = useState<string>()
  const shown = useRef(onShown)
  shown.current = onShown
  useEffect(() => {
    if (src) shown.current?.()
  }, [src])
  useEffect(() => {
    let live = true
    import('qrcode')
      .then((q) => q.toString(`lightning:${invoice.toUpperCase()}`, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 }))
      .then((svg) => live && setSrc(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`))
      .catch(() => live && setSrc(''))
    return () => {
      live = false
    }
  }, [invoice])
  if (src === undefined) return <div className="qr placeholder" aria-busy="true" />
  if (src === '') return <div className="qr placeholder">QR code unavailable: copy the invoice below</div>
  return <img className="qr" src={src} alt="QR code of the Lightning invoice" width={240} height={240} />
}
