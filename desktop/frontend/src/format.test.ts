import { bytes, countdown, eta, parseSats, percent, price, rate, sats, shortKey, when } from './format'

// A size and its unit are joined by a no-break space, so they never wrap apart.
const nb = (s: string) => s.replace(/ /g, '\u00a0')

test('sats and prices', () => {
  expect(sats(2_100_000)).toBe('2,100 sats')
  expect(sats(1000)).toBe('1 sat')
  expect(sats(1500)).toBe('1.5 sats')
  expect(price(0)).toBe('Free')
  expect(price(5_000_000)).toBe('5,000 sats')
})

test('sizes, rates and time left', () => {
  expect(bytes(0)).toBe(nb('0 B'))
  expect(bytes(512)).toBe(nb('512 B'))
  expect(bytes(1536)).toBe(nb('1.5 KiB'))
  expect(bytes(300 * 1024 * 1024)).toBe(nb('300 MiB'))
  expect(rate(2 * 1024 * 1024)).toBe(nb('2.0 MiB/s'))
  expect(rate(0)).toBe('')
  expect(eta(4.2e9)).toBe('5 s left')
  expect(eta(125e9)).toBe('2 min 5 s left')
  expect(eta(0)).toBe('')
  expect(countdown(14 * 60_000 + 9_000)).toBe('14:09')
  expect(countdown(-5)).toBe('0:00')
  expect(percent(1, 3)).toBe(33)
  expect(percent(5, 0)).toBe(0)
})

test('keys and dates', () => {
  expect(shortKey('npub1abcdefghijklmnopqrstuvwxyz')).toBe('npub1abcde…uvwxyz')
  expect(when('0001-01-01T00:00:00Z')).toBe('')
  expect(when(undefined)).toBe('')
  expect(when('2025-01-02T10:00:00Z')).toMatch(/2025/)
})

test('prices typed in sats', () => {
  expect(parseSats('2100')).toBe(2_100_000)
  expect(parseSats(' 2,100 ')).toBe(2_100_000)
  expect(parseSats('1.5')).toBe(1500)
  expect(parseSats('0')).toBe(0)
  expect(() => parseSats('abc')).toThrow('“abc” is not a price in sats')
  expect(() => parseSats('-5')).toThrow('is not a price in sats')
  expect(() => parseSats('1.0001')).toThrow('is not a price in sats')
  expect(() => parseSats('99999999999999999999')).toThrow('100,000,000,000,000,000,000 sats is too large for a price.')
})
