// The window's screens. A route is plain data; the bridge can name the first one
// (SATCHEL_LAUNCHER_ROUTE) as "game/SLUG", "checkout/SLUG", "library", "developer/SLUG", ...
import { createContext, useContext } from 'react'

export type Route =
  | { name: 'store' }
  | { name: 'game'; slug: string; checkout?: boolean }
  | { name: 'library' }
  | { name: 'developer'; slug?: string }
  | { name: 'settings' }
  | { name: 'account' }

export function parseRoute(s: string | undefined): Route {
  const [name, slug] = (s ?? '').split('/', 2)
  switch (name) {
    case 'game':
    case 'checkout':
      return slug ? { name: 'game', slug, checkout: name === 'checkout' } : { name: 'store' }
    case 'developer':
      return { name, slug: slug || undefined }
    case 'library':
    case 'settings':
    case 'account':
      return { name }
    default:
      return { name: 'store' }
  }
}

export interface Nav {
  route: Route
  go: (r: Route) => void
}

export const NavContext = createContext<Nav>({ route: { name: 'store' }, go: () => {} })

export const useNav = () => useContext(NavContext)
