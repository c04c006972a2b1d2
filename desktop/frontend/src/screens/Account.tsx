import { useState } from 'react'
import { api, type Identity, type Purchase } from '../api'
import { CopyField, Dialog, LoadError, Notice, Spinner } from '../components/ui'
import { sats, shortKey, when } from '../format'
import { useAction, useAsync, useEvent, useReady } from '../hooks'
import { useLibrary } from '../library'

/**
 * Account: the identity (npub), the other identities on this computer (labelled, switched to,
 * removed after a confirmation that offers to export the key first), and claiming a guest
 * receipt. Adding an identity asks first when it would replace the active one.
 */
export default function Account() {
  const ids = useAsync(api.identities, [])
  const act = useAction()
  const [secret, setSecret] = useState('')
  const [confirmCreate, setConfirmCreate] = useState(false)
  const [removing, setRemoving] = useState<Identity>()
  useEvent('session', ids.reload)
  useReady('account', !!ids.data)
  if (!ids.data) return ids.error ? <LoadError what="your identities" error={ids.error} retry={ids.reload} /> : <Spinner />
  const active = ids.data.find((i) => i.active)
  const others = ids.data.filter((i) => !i.active)
  const create = () => act.run(() => api.createIdentity())
  return (
    <div className="account">
      <header className="page-head">
        <h1>Account</h1>
      </header>
      <section className="panel" aria-labelledby="acc-id">
        <h2 id="acc-id">Your identity</h2>
        {active ? (
          <>
            <LabelField identity={active} onSaved={ids.reload} />
            <CopyField value={active.npub} label="Your public key (npub)" />
            <p className="keyring-note">🔒 Its secret key lives in your OS keyring, never in a file.</p>
            <div className="row">
              <button type="button" className="btn danger small" onClick={() => setRemoving(active)}>
                Remove this identity…
              </button>
            </div>
          </>
        ) : (
          <p>You browse as a guest. Create or import an identity to own games on every computer.</p>
        )}
      </section>
      {others.length > 0 && (
        <section className="panel" aria-labelledby="acc-others">
          <h2 id="acc-others">Other identities on this computer</h2>
          <p className="muted small">Each identity has its own library: switching shows only the games it owns.</p>
          <ul className="plain id-list">
            {others.map((i) => (
              <li key={i.pubkey} className="id-item">
                <LabelField identity={i} onSaved={ids.reload} />
                <div className="row">
                  <code className="mono" title={i.npub}>
                    {shortKey(i.npub)}
                  </code>
                  <span className="muted small">added {when(i.created_at)}</span>
                  <button type="button" className="btn small" disabled={act.busy} onClick={() => act.run(() => api.useIdentity(i.pubkey))}>
                    Use this identity
                  </button>
                  <button type="button" className="btn ghost small" onClick={() => setRemoving(i)}>
                    Remove…
                  </button>
                </div>
              </li>
            ))}
          </ul>
        </section>
      )}
      <section className="panel" aria-labelledby="acc-add">
        <h2 id="acc-add">Add an identity</h2>
        <div className="row">
          <button type="button" className="btn" disabled={act.busy} onClick={() => (active ? setConfirmCreate(true) : void create())}>
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
      {confirmCreate && (
        <Dialog title="Create a new identity?" onClose={() => setConfirmCreate(false)}>
          <p>
            Satchel switches to the new identity: it owns no games yet, so your library looks empty until you switch back
            (Account → Other identities). Nothing is deleted.
          </p>
          <div className="row end">
            <button type="button" className="btn" data-autofocus onClick={() => setConfirmCreate(false)}>
              Cancel
            </button>
            <button
              type="button"
              className="btn primary"
              onClick={() => {
                setConfirmCreate(false)
                void create()
              }}
            >
              Create and switch
            </button>
          </div>
        </Dialog>
      )}
      {removing && <RemoveIdentity identity={removing} onClose={() => setRemoving(undefined)} onRemoved={ids.reload} />}
    </div>
  )
}

/** An identity's label, editable in place. */
function LabelField({ identity, onSaved }: { identity: Identity; onSaved: () => void }) {
  const [label, setLabel] = useState(identity.label ?? '')
  const act = useAction()
  const changed = label.trim() !== (identity.label ?? '')
  return (
    <form
      className="row label-form"
      onSubmit={(e) => {
        e.preventDefault()
        void act.run(async () => {
          await api.labelIdentity(identity.pubkey, label)
          onSaved()
        })
      }}
    >
      <label className="grow">
        <span className="label">Label</span>
        <input type="text" placeholder="A name only you see, such as “home”" value={label} onChange={(e) => setLabel(e.target.value)} />
      </label>
      {changed && (
        <button type="submit" className="btn small" disabled={act.busy}>
          Save label
        </button>
      )}
      {act.error && <Notice tone="error">{act.error}</Notice>}
    </form>
  )
}

/** Removing an identity: its npub, a last chance to export its key, then the removal. */
function RemoveIdentity({ identity, onClose, onRemoved }: { identity: Identity; onClose: () => void; onRemoved: () => void }) {
  const [nsec, setNsec] = useState<string>()
  const act = useAction()
  return (
    <Dialog title={`Remove ${identity.label || 'this identity'}?`} onClose={onClose}>
      <CopyField value={identity.npub} label="Public key (npub) of the identity to remove" />
      <p>
        Its secret key is deleted from the OS keyring. Without a copy of it, the games this identity owns cannot be used
        again, here or anywhere. Installed games stay on disk.
      </p>
      {nsec ? (
        <CopyField value={nsec} label="Its secret key (nsec)" />
      ) : (
        <button type="button" className="btn" onClick={() => act.run(async () => setNsec(await api.exportIdentity(identity.pubkey)))}>
          Export its secret key first
        </button>
      )}
      {act.error && <Notice tone="error">{act.error}</Notice>}
      <div className="row end">
        <button type="button" className="btn" data-autofocus onClick={onClose}>
          Cancel
        </button>
        <button
          type="button"
          className="btn danger"
          disabled={act.busy}
          onClick={() =>
            act.run(async () => {
              await api.removeIdentity(identity.pubkey)
              onRemoved()
              onClose()
            })
          }
        >
          Remove from this computer
        </button>
      </div>
    </Dialog>
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
