// Formatting for people: sats, sizes, rates, times.

const intFmt = new Intl.NumberFormat('en-US')
const satFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 })

/** Millisatoshi as sats: 2100000 -> "2,100 sats". */
export function sats(msat: number): string {
  const s = msat / 1000
  return `${satFmt.format(s)} ${s === 1 ? 'sat' : 'sats'}`
}

/** A price: "Free" or sats. */
export function price(msat: number): string {
  return msat === 0 ? 'Free' : sats(msat)
}

/** Bytes with a binary unit: "1.5 MiB". */
export function bytes(n: number | undefined): string {
  if (!n || n < 0) return '0 B'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let u = 0
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024
    u++
  }
  return u === 0 ? `${intFmt.format(v)} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`
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
