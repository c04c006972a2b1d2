import { lazy, Suspense, useCallback, useEffect, useState } from 'react'
import { api, type Status } from './api'
import { Notice, Spinner } from './components/ui'
import { sentence, shortKey } from './format'
import { isOffline, useAsync, useEvent } from './hooks'
import { LibraryProvider, useLibrary } from './library'
import { take, takeBoot } from './preload'
import { NavContext, parseRoute, type Route } from './route'
import Store from './screens/Store'

// The store is in the first script; the other screens load when first opened.
const Account = lazy(() => import('./screens/Account'))
const Developer = lazy(() => import('./screens/Developer'))
const GamePage = lazy(() => import('./screens/GamePage'))
const Library = lazy(() => import('./screens/Library'))
const Settings = lazy(() => import('./screens/Settings'))
const Welcome = lazy(() => import('./screens/Welcome'))

export default function App() {
  const [bootStatus] = useState(() => takeBoot('status'))
  const status = useAsync(() => take('status', api.status), [], bootStatus)
  const [onboarding, setOnboarding] = useState<boolean | undefined>(() =>
    bootStatus ? !bootStatus.identity && !bootStatus.keyring_error : undefined,
  )
  const [route, setRoute] = useState<Route | undefined>(() => (bootStatus ? parseRoute(bootStatus.route) : undefined))
  useEvent('session', (s) => status.set(s))
  useEffect(() => {
    if (status.data && onboarding === undefined) {
      setOnboarding(!status.data.identity && !status.data.keyring_error)
      setRoute(parseRoute(status.data.route))
    }
  }, [status.data, onboarding])

  if (!status.data) {
    if (status.error) {
      return (
        <main className="center-page">
          <Notice tone="error" title="Satchel could not start">
            {status.error}
          </Notice>
        </main>
      )
    }
    return (
      <main className="center-page">
        <Spinner label="Opening Satchel…" />
      </main>
    )
  }
  const st = status.data
  if (st.error) {
    return (
      <main className="center-page">
        <Notice tone="error" title="Satchel could not open its files">
          {st.error}
        </Notice>
      </main>
    )
  }
  if (onboarding || !route) {
    return (
      <Suspense fallback={<Spinner />}>
        <Welcome status={st} onStatus={status.set} onDone={() => setOnboarding(false)} />
      </Suspense>
    )
  }
  return (
    <NavContext.Provider value={{ route, go: setRoute }}>
      <LibraryProvider>
        <Shell status={st} route={route} go={setRoute} />
      </LibraryProvider>
    </NavContext.Provider>
  )
}

const sections: { name: Route['name']; label: string }[] = [
  { name: 'store', label: 'Store' },
  { name: 'library', label: 'Library' },
  { name: 'developer', label: 'Developer' },
  { name: 'settings', label: 'Settings' },
  { name: 'account', label: 'Account' },
]

function Shell({ status, route, go }: { status: Status; route: Route; go: (r: Route) => void }) {
  const lib = useLibrary()
  const sync = lib.sync ?? status.sync
  const offline = isOffline(sync)
  const active = route.name === 'game' ? 'store' : route.name
  const downloads = lib.jobs.filter((g) => g.job).length
  const focusMain = useCallback((node: HTMLElement | null) => node?.focus({ preventScroll: true }), [])
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <nav className="sidebar" aria-label="Sections">
        <div className="brand" aria-hidden="true">
          <span className="brand-mark">⚡</span> Satchel
        </div>
        <ul>
          {sections.map((s) => (
            <li key={s.name}>
              <button
                type="button"
                className="nav-item"
                aria-current={active === s.name ? 'page' : undefined}
                onClick={() => go({ name: s.name } as Route)}
              >
                {s.label}
                {s.name === 'library' && downloads > 0 && (
                  <span className="badge" aria-label={`${downloads} downloading`}>
                    {downloads}
                  </span>
                )}
              </button>
            </li>
          ))}
        </ul>
        <div className="sidebar-foot">
          <span className={`dot ${offline ? 'off' : 'on'}`} aria-hidden="true" />
          <span>{offline ? 'Offline' : 'Online'}</span>
          <div className="muted small" title={status.identity?.npub}>
            {status.identity ? shortKey(status.identity.npub) : 'No identity (guest)'}
          </div>
        </div>
      </nav>
      <div className="main-col">
        {status.test_money && (
          <div className="banner test-money" role="note">
            Test money only: this server takes no real money.
          </div>
        )}
        {status.keyring_error && (
          <div className="banner warn" role="alert">
            Your identity could not be read from the OS keyring: {status.keyring_error}
          </div>
        )}
        {offline && (
          <div className="banner offline" role="status">
            <strong>Offline.</strong> {sentence(sync?.last_error ?? '')} Satchel reconnects by itself.
          </div>
        )}
        <main id="main" className="content" tabIndex={-1} key={routeKey(route)} ref={focusMain}>
          <Suspense fallback={<Spinner />}>
            <Screen route={route} />
          </Suspense>
        </main>
      </div>
    </div>
  )
}

function routeKey(r: Route): string {
  return r.name === 'game' ? `game/${r.slug}` : r.name
}

function Screen({ route }: { route: Route }) {
  switch (route.name) {
    case 'store':
      return <Store />
    case 'game':
      return <GamePage slug={route.slug} openCheckout={!!route.checkout} />
    case 'library':
      return <Library />
    case 'developer':
      return <Developer slug={route.slug} />
    case 'settings':
      return <Settings />
    case 'account':
      return <Account />
  }
}
