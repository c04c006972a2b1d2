import { useState } from 'react'
import { api, type Status } from '../api'
import { CopyField, Notice } from '../components/ui'
import { useAction } from '../hooks'

/** The keyring that holds the secret keys on os (Go's runtime.GOOS), by the name the player knows. */
function keyringName(os: string): string {
  switch (os) {
    case 'windows':
      return 'Windows Credential Manager'
    case 'darwin':
      return 'the macOS Keychain'
    default:
      return 'the Secret Service: GNOME Keyring or KWallet'
  }
}

/** Where the launcher keeps its files on this computer (the state folder only when it is apart). */
function Folders({ dirs }: { dirs: Status['dirs'] }) {
  return (
    <p className="keyring-note">
      📁 Games and the launcher's files: <code>{dirs.data}</code>; settings: <code>{dirs.config}</code>
      {dirs.state !== dirs.data && (
        <>
          ; what is installed where: <code>{dirs.state}</code>
        </>
      )}
      .
    </p>
  )
}

/** First run: create an identity or import one; the key goes to the OS keyring, named for the player's OS. */
export default function Welcome({ status, onStatus, onDone }: { status: Status; onStatus: (s: Status) => void; onDone: () => void }) {
  const [secret, setSecret] = useState('')
  const [made, setMade] = useState<'created' | 'imported'>()
  const act = useAction()
  const id = made ? status.identity : undefined
  const keyring = keyringName(status.os)

  const create = () =>
    act.run(async () => {
      onStatus(await api.createIdentity())
      setMade('created')
    })
  const importKey = () =>
    act.run(async () => {
      onStatus(await api.importIdentity(secret))
      setSecret('')
      setMade('imported')
    })

  return (
    <main className="welcome">
      <div className="welcome-card">
        <h1>
          <span className="brand-mark" aria-hidden="true">
            ⚡
          </span>{' '}
          Welcome to Satchel
        </h1>
        {id ? (
          <>
            <p>{made === 'created' ? 'Your new identity is ready.' : 'Your identity is imported.'} This is your public key (npub): share it freely.</p>
            <CopyField value={id.npub} label="Your public key (npub)" />
            <p className="keyring-note">
              🔒 Your secret key lives in your operating system's keyring ({keyring}), never in a file. Back it up from
              Settings → Export identity.
            </p>
            <button type="button" className="btn primary" data-autofocus onClick={onDone}>
              Continue to the store
            </button>
          </>
        ) : (
          <>
            <p>
              Games here are paid with Bitcoin over Lightning. Your identity is a Nostr key: it owns your library on every
              computer where you use it.
            </p>
            <section aria-labelledby="new-id">
              <h2 id="new-id">New here?</h2>
              <button type="button" className="btn primary" disabled={act.busy} onClick={create}>
                Create my identity
              </button>
            </section>
            <section aria-labelledby="import-id">
              <h2 id="import-id">Already have a key?</h2>
              <form
                className="row"
                onSubmit={(e) => {
                  e.preventDefault()
                  void importKey()
                }}
              >
                <label className="grow">
                  <span className="sr-only">Secret key (nsec or hex)</span>
                  <input
                    type="password"
                    autoComplete="off"
                    placeholder="nsec1… or 64 hex characters"
                    value={secret}
                    onChange={(e) => setSecret(e.target.value)}
                  />
                </label>
                <button type="submit" className="btn" disabled={act.busy || secret.trim() === ''}>
                  Import
                </button>
              </form>
            </section>
            <p className="keyring-note">🔒 Satchel keeps secret keys only in your OS keyring ({keyring}), never in a file.</p>
            <Folders dirs={status.dirs} />
            {act.error && <Notice tone="error" title="That did not work">{act.error}</Notice>}
            <button type="button" className="btn link" onClick={onDone}>
              Browse the store without an identity
            </button>
          </>
        )}
      </div>
    </main>
  )
}
