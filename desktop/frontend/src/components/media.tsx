// A game's images: its cover (or, without one, a tile coloured from its slug) and the strip of
// screenshots with a viewer. The images are the server's, at URLs whose content never changes.
import { useEffect, useState } from 'react'
import type { GameCard } from '../api'
import { Dialog } from './ui'

export type Image = NonNullable<GameCard['cover']>

/** A game's cover: its image, or a tile coloured from its slug with its initial (also when
 * the image cannot be loaded, offline). */
export function Cover({ slug, title, image }: { slug: string; title: string; image?: Image }) {
  const [broken, setBroken] = useState(false)
  useEffect(() => setBroken(false), [image?.url])
  if (image && !broken) {
    return <img className="cover" src={image.url} alt="" aria-hidden="true" loading="lazy" onError={() => setBroken(true)} />
  }
  let f = 2166136261 // FNV-1a
  for (const c of slug) f = Math.imul(f ^ c.charCodeAt(0), 16777619) >>> 0
  const h = f % 360
  const style = { background: `linear-gradient(135deg, hsl(${h} 55% 32%), hsl(${(h + 50) % 360} 60% 18%))` }
  return (
    <span className="cover" style={style} aria-hidden="true">
      <span className="cover-initial">{title.slice(0, 1)}</span>
    </span>
  )
}

/** The game page's screenshots: a strip of thumbnails; one opens the viewer, which steps
 * through them with its buttons or the arrow keys. */
export function ScreenshotStrip({ title, shots }: { title: string; shots: Image[] }) {
  const [open, setOpen] = useState<number>()
  useEffect(() => {
    if (open === undefined) return
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'ArrowRight') setOpen((i) => (i === undefined ? i : (i + 1) % shots.length))
      if (e.key === 'ArrowLeft') setOpen((i) => (i === undefined ? i : (i + shots.length - 1) % shots.length))
    }
    document.addEventListener('keydown', onKey)
    return () => document.removeEventListener('keydown', onKey)
  }, [open, shots.length])
  if (shots.length === 0) return null
  const shown = open === undefined ? undefined : shots[open]
  return (
    <section className="shots" aria-label="Screenshots">
      <ul className="plain shot-strip">
        {shots.map((s, i) => (
          <li key={s.id}>
            <button type="button" className="shot" aria-label={`Screenshot ${i + 1} of ${shots.length}`} onClick={() => setOpen(i)}>
              <img src={s.url} alt="" loading="lazy" width={s.width} height={s.height} />
            </button>
          </li>
        ))}
      </ul>
      {shown && open !== undefined && (
        <Dialog title={`${title}: screenshot ${open + 1} of ${shots.length}`} onClose={() => setOpen(undefined)} wide>
          <figure className="viewer">
            <img src={shown.url} alt={`${title}, screenshot ${open + 1}`} width={shown.width} height={shown.height} />
          </figure>
          {shots.length > 1 && (
            <div className="row viewer-nav">
              <button type="button" className="btn" onClick={() => setOpen((open + shots.length - 1) % shots.length)}>
                ← Previous
              </button>
              <button type="button" className="btn" data-autofocus onClick={() => setOpen((open + 1) % shots.length)}>
                Next →
              </button>
            </div>
          )}
        </Dialog>
      )}
    </section>
  )
}
