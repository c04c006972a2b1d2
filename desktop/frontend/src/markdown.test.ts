import { renderMarkdown } from './markdown'

test('renders Markdown', () => {
  const html = renderMarkdown('# Title\n\nSome **bold** and a [link](https://example.com).\n\n- one\n- two')
  expect(html).toContain('<h1>Title</h1>')
  expect(html).toContain('<strong>bold</strong>')
  expect(html).toContain('<a href="https://example.com">link</a>')
  expect(html).toContain('<li>one</li>')
})

test('never passes raw HTML or scripts through', () => {
  const html = renderMarkdown('Hi <script>alert(1)</script> <img src=x onerror="alert(2)"> <b>raw</b>\n\n<div onclick="x()">block</div>')
  const doc = document.createElement('div')
  doc.innerHTML = html
  expect(doc.querySelectorAll('script, img, b, div')).toHaveLength(0)
  const handlers = [...doc.querySelectorAll('*')].flatMap((el) => [...el.attributes].filter((a) => a.name.startsWith('on')))
  expect(handlers).toHaveLength(0)
  expect(doc.textContent).toContain('<script>alert(1)</script>') // shown as text
})

test('drops dangerous links', () => {
  const html = renderMarkdown('[x](javascript:alert(1)) [y](data:text/html,hi) ![i](https://e.x/i.png)')
  expect(html).not.toMatch(/javascript:|data:|<img/i)
})
