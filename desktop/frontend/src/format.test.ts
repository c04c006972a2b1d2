import { bytes, countdown, eta, percent, price, rate, sats, shortKey, when } from './format'

test('sats and prices', () => {
  expect(sats(2_100_000)).toBe('2,100 sats')
  expect(sats(1000)).toBe('1 sat')
  expect(sats(1500)).toBe('1.5 sats')
  expect(price(0)).toBe('Free')
  expect(price(5_000_000)).toBe('5,000 sats')
})

test('sizes, rates and time left', () => {
  expect(bytes(0)).toBe('0 B')
  expect(bytes(512)).toBe('512 B')
  expect(bytes(1536)).toBe('1.5 KiB')
  expect(bytes(300 * 1024 * 1024)).toBe('300 MiB')
  expect(rate(2 * 1024 * 1024)).toBe('2.0 MiB/s')
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
