import { useState } from 'react'
import { api, type Purchase } from '../api'
import { CopyField, LoadError, Notice, Spinner } from '../components/ui'
import { sats, shortKey, when } from '../format'
import { useAction, useAsync, useEvent, useReady } from '../hooks'
import { useLibrary } from '../library'

/** Account: the identity (npub), other identities, and claiming a guest receipt. */
export default function Account() {
  const ids = useAsync(api.identities, [])
  const act = useAction()
  const [secret, setSecret] = useState('')
  useEvent('session', ids.reload)
  useReady('account', !!ids.data)
  if (!ids.data) return ids.error ? <LoadError what="your identities" error={ids.error} retry={ids.reload} /> : <Spinner />
  const active = ids.data.find((i) => i.active)
  const others = ids.data.filter((i) => !i.active)
  return (
    <div className="account">
      <header className="page-head">
        <h1>Account</h1>
      </header>
      <section className="panel" aria-labelledby="acc-id">
        <h2 id="acc-id">Your identity</h2>
        {active ? (
          <>
            {active.label && <p>{active.label}</p>}
            <CopyField value={active.npub} label="Your public key (npub)" />
            <p className="keyring-note">🔒 Its secret key lives in your OS keyring, never in a file.</p>
          </>
        ) : (
          <p>You browse as a guest. Create or import an identity to own games on every computer.</p>
        )}
      </section>
      {others.length > 0 && (
        <section className="panel" aria-labelledby="acc-others">
          <h2 id="acc-others">Other identities on this computer</h2>
          <ul className="plain id-list">
            {others.map((i) => (
              <li key={i.pubkey} className="row">
                <code className="mono" title={i.npub}>
                  {shortKey(i.npub)}
                </code>
                {i.label && <span>{i.label}</span>}
                <span className="muted small">added {when(i.created_at)}</span>
                <button type="button" className="btn small" disabled={act.busy} onClick={() => act.run(() => api.useIdentity(i.pubkey))}>
                  Use this identity
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section className="panel" aria-labelledby="acc-add">
        <h2 id="acc-add">Add an identity</h2>
        <div className="row">
          <button type="button" className="btn" disabled={act.busy} onClick={() => act.run(() => api.createIdentity())}>
            Create a new identity
          </button>
        </div>
        <form
          className="row"
          onSubmit={(e) => {
            e.preventDefault()
            void act.run(async () => {
              await api.importIdentity(secret)
              setSecret('')
            })
          }}
        >
          <label className="grow">
            <span className="label">Import a secret key (nsec or hex)</span>
            <input type="password" autoComplete="off" placeholder="nsec1…" value={secret} onChange={(e) => setSecret(e.target.value)} />
          </label>
          <button type="submit" className="btn" disabled={act.busy || secret.trim() === ''}>
            Import and use
          </button>
        </form>
        <p className="muted small">The identity you add becomes the active one; the others stay here to switch back.</p>
        {act.error && <Notice tone="error">{act.error}</Notice>}
      </section>
      <ClaimReceipt signedIn={!!active} />
    </div>
  )
}

function ClaimReceipt({ signedIn }: { signedIn: boolean }) {
  const [code, setCode] = useState('')
  const [claimed, setClaimed] = useState<Purchase>()
  const act = useAction()
  const lib = useLibrary()
  return (
    <section className="panel" aria-labelledby="acc-claim">
      <h2 id="acc-claim">Claim a receipt</h2>
      <p>Bought a game as a guest? Enter its receipt code to move it to your identity.</p>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault()
          void act.run(async () => {
            setClaimed(await api.claimReceipt(code))
            setCode('')
            lib.reload()
          })
        }}
      >
        <label className="grow">
          <span className="label">Receipt code</span>
          <input type="text" className="mono" autoComplete="off" value={code} onChange={(e) => setCode(e.target.value)} />
        </label>
        <button type="submit" className="btn primary" disabled={!signedIn || act.busy || code.trim() === ''}>
          Claim
        </button>
      </form>
      {!signedIn && <p className="muted small">Create or import an identity first: the receipt moves to it.</p>}
      {claimed && (
        <Notice tone="ok" title="Claimed">
          {claimed.title || 'The game'} ({sats(claimed.amount_msat)}) is now in your library.
        </Notice>
      )}
      {act.error && <Notice tone="error" title="The receipt could not be claimed">{act.error}</Notice>}
    </section>
  )
}
