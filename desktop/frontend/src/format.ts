// Formatting for people: sats, sizes, rates, times.

const intFmt = new Intl.NumberFormat('en-US')
const satFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 })

/** Keeps a size and its unit on one line ("1.5 MiB" never breaks before "MiB"). */
const nbsp = '\u00a0'

/** Millisatoshi as sats: 2100000 -> "2,100 sats". */
export function sats(msat: number): string {
  const s = msat / 1000
  return `${satFmt.format(s)} ${s === 1 ? 'sat' : 'sats'}`
}

/** A price: "Free" or sats. */
export function price(msat: number): string {
  return msat === 0 ? 'Free' : sats(msat)
}

/**
 * A price a person typed, in sats (commas and spaces allowed, up to 3 decimals: millisats),
 * as millisatoshi for the API. Throws an Error whose message says, in sats, what is wrong.
 */
export function parseSats(text: string): number {
  const t = text.trim().replace(/[,\s_]/g, '')
  if (!/^\d+(\.\d{1,3})?$/.test(t)) {
    throw new Error(`“${text.trim()}” is not a price in sats: type a number such as 2100 (0 for a free game).`)
  }
  const [whole, frac = ''] = t.split('.')
  const msat = Number(whole) * 1000 + Number(frac.padEnd(3, '0'))
  if (!Number.isSafeInteger(msat)) throw new Error(`${satFmt.format(Number(whole))} sats is too large for a price.`)
  return msat
}

/** Bytes with a binary unit: "1.5 MiB". */
export function bytes(n: number | undefined): string {
  if (!n || n < 0) return `0${nbsp}B`
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${intFmt.format(v)}${nbsp}B` : `${v.toFixed(v < 10 ? 1 : 0)}${nbsp}${units[u]}`
}

/** A transfer rate: "512 KiB/s". */
export function rate(bytesPerSecond: number | undefined): string {
  return bytesPerSecond ? `${bytes(bytesPerSecond)}/s` : ''
}

/** A Go time.Duration (nanoseconds) left: "4 s left", "2 min 5 s left". */
export function eta(ns: number | undefined): string {
  if (!ns || ns <= 0) return ''
  const s = Math.ceil(ns / 1e9)
  if (s < 60) return `${s} s left`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min ${s % 60} s left`
  return `${Math.floor(m / 60)} h ${m % 60} min left`
}

/** Milliseconds as a countdown: "14:09", or "0:00" once passed. */
export function countdown(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000))
  const m = Math.floor(s / 60)
  return `${m}:${String(s % 60).padStart(2, '0')}`
}

/** Done of total as a whole percentage. */
export function percent(done: number | undefined, total: number | undefined): number {
  if (!total || !done) return 0
  return Math.min(100, Math.floor((done / total) * 100))
}

/** A long key shortened for display: "npub1abcd…wxyz". */
export function shortKey(key: string): string {
  return key.length > 20 ? `${key.slice(0, 10)}…${key.slice(-6)}` : key
}

/** A date and time from the bridge (RFC 3339), for people; "" for none. */
export function when(iso: unknown): string {
  if (typeof iso !== 'string' || iso === '' || iso.startsWith('0001-')) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  return d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' })
}

/** An error's text as a sentence: capital first, full stop last. */
export function sentence(s: string): string {
  const t = s.trim()
  if (!t) return ''
  return t[0].toUpperCase() + t.slice(1) + (/[.!?]$/.test(t) ? '' : '.')
}
