// Markdown for descriptions and release notes: rendered with marked, raw HTML escaped (never
// passed through), then sanitised by DOMPurify, so no script, style, frame or event handler
// ever reaches the page. Loaded on demand, so the store's first paint does not wait for it.
import DOMPurify from 'dompurify'
import { Marked } from 'marked'

const escapeHTML = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')

const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    // Raw HTML in the Markdown is shown as text.
    html({ text }) {
      return escapeHTML(text)
    },
  },
})

const allowed = {
  ALLOWED_TAGS: ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'p', 'br', 'hr', 'ul', 'ol', 'li', 'strong', 'em', 'del',
    'code', 'pre', 'blockquote', 'a', 'table', 'thead', 'tbody', 'tr', 'th', 'td'],
  ALLOWED_ATTR: ['href', 'title', 'align'],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#)/i,
}

/** Markdown as sanitised HTML. */
export function renderMarkdown(md: string): string {
  const html = marked.parse(md, { async: false })
  return DOMPurify.sanitize(html, allowed)
}
