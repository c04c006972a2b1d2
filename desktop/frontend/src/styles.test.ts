// The stylesheet's rules that jsdom cannot check by rendering.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const css = readFileSync(join(__dirname, 'styles.css'), 'utf8')

/** The declarations of the rule whose selector list is exactly selector. */
function rule(selector: string): string {
  const at = css.search(new RegExp(`(^|[}/]\\s*)${selector.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*\\{`))
  if (at < 0) return ''
  const open = css.indexOf('{', at)
  return css.slice(open + 1, css.indexOf('}', open))
}

test('drop-downs open dark, as the rest of the window', () => {
  expect(rule('select,\noption')).toContain('color-scheme: dark')
  expect(rule('option')).toContain('background-color: var(--bg-2)')
})

test('only the content scrolls: the sidebar stays put on a long page', () => {
  expect(rule('.shell')).toContain('grid-template-rows: minmax(0, 1fr)')
})

test('the checkout keeps its QR code beside the invoice in a small window: the dialog is as wide there', () => {
  for (const block of css.split('@media').slice(1)) {
    expect(block.slice(0, block.indexOf('\n}'))).not.toContain('.checkout-pending')
  }
})

test("a store card's version and size stay on one line, under the price when the card is narrow", () => {
  expect(rule('.card-meta')).toContain('flex-wrap: wrap')
  expect(rule('.card-meta > .muted')).toContain('white-space: nowrap')
})

test("the game page's release rule leaves the Developer tab's release boxes their padding", () => {
  expect(rule('.release-list > li')).toBe('')
  expect(rule('.release-list > li:not(.release)')).toContain('padding: 10px 0')
  expect(rule('.release')).toContain('padding: 10px 14px')
})
