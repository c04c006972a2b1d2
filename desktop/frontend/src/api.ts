// The one typed client of the Go bridge (package desktop/app). Components call these
// functions and listen through onEvent; nothing else touches window.go or the Wails runtime.
// The types come from the bindings Wails generates from the Go structs (wailsjs/go/models),
// as plain data: what arrives over the bridge is JSON, not instances of those classes.
import * as App from '../wailsjs/go/app/App'
import type { app, core, install, library, state } from '../wailsjs/go/models'
import { BrowserOpenURL, ClipboardSetText, EventsOn } from '../wailsjs/runtime/runtime'

// Go's time.Time comes through as `any` in the generated models; here it is an optional
// RFC 3339 string (zero times are left out), typed unknown until read.
type IsAny<T> = 0 extends 1 & T ? true : false
type Plain<T> = T extends Function
  ? never
  : T extends Array<infer U>
    ? Plain<U>[]
    : T extends object
      ? { -readonly [K in keyof T as T[K] extends Function ? never : IsAny<T[K]> extends true ? never : K]: Plain<T[K]> } & {
          -readonly [K in keyof T as IsAny<T[K]> extends true ? K : never]?: unknown
        }
      : T

export type Status = Plain<app.Status>
export type Identity = Plain<app.Identity>
export type GameCard = Plain<core.GameCard>
export type GamePage = Plain<core.GamePage>
export type StoreGame = Plain<core.StoreGame>
export type StoreRelease = Plain<core.StoreRelease>
export type GameView = Plain<app.GameView>
export type Purchase = Plain<core.Purchase>
export type LibraryView = Plain<app.LibraryView>
export type LibraryGame = Plain<app.LibraryGame>
export type LibraryEntry = Plain<library.Entry>
export type SyncStatus = Plain<library.SyncStatus>
export type Progress = Plain<install.Progress>
export type Report = Plain<install.Report>
export type Failure = Plain<state.Failure>
export type Session = Plain<app.Session>
export type SettingsView = Plain<app.SettingsView>
export type Account = Plain<core.Account>
export type DevGame = Plain<core.DevGame>
export type DevRelease = Plain<core.DevRelease>
export type GameDraft = Plain<core.GameDraft>
export type BuildDiff = Plain<core.BuildDiff>
export type FileChange = Plain<core.FileChange>
export type UploadProgress = Plain<core.UploadProgress>
export type SalesReport = Plain<core.SalesReport>
export type LedgerEntry = Plain<core.LedgerEntry>
export type Payout = Plain<core.Payout>

/** An event of the engine (Go core.Event). */
export interface CoreEvent {
  kind: 'library' | 'sync' | 'progress' | 'installed' | 'install-failed' | 'launched' | 'exited' | 'rolled-back'
  slug?: string
  version?: string
  progress?: Progress
  sync?: SyncStatus
  pid?: number
  exit_code?: number
  message?: string
  /** An exited game that failed within seconds: the last lines of its launch log. */
  tail?: string[]
  /** Why an install failed: offline, verify, disk-space, busy, moving, refused, cancelled, other. */
  problem?: string
}

/** A library move's progress (Go app.MoveProgress). */
export interface MoveProgress {
  to: string
  copied: number
  total: number
  finished: boolean
  error?: string
}

/** The events the bridge sends, by name. */
export interface Events {
  core: CoreEvent
  purchase: Purchase
  'purchase-error': Purchase
  upload: UploadProgress
  move: MoveProgress
  verify: Progress
  session: Status
}

/** Listens to one kind of event; returns the function that stops listening. */
export function onEvent<K extends keyof Events>(name: K, handler: (data: Events[K]) => void): () => void {
  return EventsOn(name, (data: Events[K]) => handler(data))
}

/** The text of a failed call: the bridge rejects with the Go error's message. */
export function errorText(err: unknown): string {
  if (typeof err === 'string') return err
  if (err instanceof Error) return err.message
  return String(err)
}

const plain = <T>(p: Promise<unknown>) => p as Promise<T>

export const api = {
  status: () => plain<Status>(App.Status()),
  ready: (screen: string) => App.Ready(screen),

  createIdentity: (label = '') => plain<Status>(App.CreateIdentity(label)),
  importIdentity: (secret: string, label = '') => plain<Status>(App.ImportIdentity(secret, label)),
  identities: () => plain<Identity[]>(App.Identities()),
  useIdentity: (pubkey: string) => plain<Status>(App.UseIdentity(pubkey)),
  labelIdentity: (pubkey: string, label: string) => plain<Identity>(App.LabelIdentity(pubkey, label)),
  removeIdentity: (pubkey: string) => plain<Status>(App.RemoveIdentity(pubkey)),
  /** The secret key (nsec) of the identity with this public key, or of the active one. */
  exportIdentity: (pubkey = '') => App.ExportIdentity(pubkey),

  games: (query = '', pageToken = '') => plain<GamePage>(App.Games(query, pageToken)),
  game: (slug: string) => plain<GameView>(App.Game(slug)),

  buy: (slug: string, guest: boolean) => plain<Purchase>(App.Buy(slug, guest)),
  payTestMoney: (invoice: string) => App.PayTestMoney(invoice),
  closeCheckout: (purchaseId: string) => App.CloseCheckout(purchaseId),
  claimReceipt: (code: string) => plain<Purchase>(App.ClaimReceipt(code)),

  library: () => plain<LibraryView>(App.Library()),
  refreshLibrary: () => plain<LibraryView>(App.RefreshLibrary()),
  install: (slug: string) => App.Install(slug),
  pause: (slug: string) => App.Pause(slug),
  cancelInstall: (slug: string) => App.CancelInstall(slug),
  play: (slug: string) => plain<Session>(App.Play(slug)),
  stopGame: (slug: string) => App.StopGame(slug),
  verify: (slug: string, repair: boolean) => plain<Report>(App.Verify(slug, repair)),
  uninstall: (slug: string) => App.Uninstall(slug),
  openFolder: (slug: string) => App.OpenFolder(slug),
  /** Opens the log of the game's last launch in the desktop's text viewer. */
  openLaunchLog: (slug: string) => App.OpenLaunchLog(slug),
  setGameAutoUpdate: (slug: string, mode: 'on' | 'off' | 'default') => App.SetGameAutoUpdate(slug, mode),

  settings: () => plain<SettingsView>(App.Settings()),
  setServer: (url: string) => plain<Status>(App.SetServer(url)),
  setSpeedLimit: (bytesPerSecond: number) => App.SetSpeedLimit(bytesPerSecond),
  setAutoUpdate: (on: boolean) => App.SetAutoUpdate(on),
  /** Keeps each installed version's build zip in the library's .downloads folder (off: none stays). */
  setKeepDownloads: (on: boolean) => App.SetKeepDownloads(on),
  chooseFolder: (title: string) => App.ChooseFolder(title),
  moveLibrary: (dir: string) => App.MoveLibrary(dir),

  account: () => plain<Account>(App.Account()),
  /** Sets (or changes) the payout Lightning Address; the server checks it answers first. */
  becomeDeveloper: (lnAddress: string) => plain<Account>(App.BecomeDeveloper(lnAddress)),
  setStudio: (name: string) => plain<Account>(App.SetStudio(name)),
  chooseImage: (title: string) => App.ChooseImage(title),
  /** Adds an image file to a game: its cover (replacing it) or its last screenshot. */
  uploadImage: (gameId: string, cover: boolean, path: string) => plain<DevGame>(App.UploadImage(gameId, cover, path)),
  deleteImage: (gameId: string, imageId: string) => plain<DevGame>(App.DeleteImage(gameId, imageId)),
  myGames: () => plain<DevGame[]>(App.MyGames()),
  createGame: (d: GameDraft) => plain<DevGame>(App.CreateGame(d as core.GameDraft)),
  updateGame: (id: string, d: GameDraft) => plain<DevGame>(App.UpdateGame(id, d as core.GameDraft)),
  setGameStatus: (id: string, status: string) => plain<DevGame>(App.SetGameStatus(id, status)),
  createRelease: (gameId: string, version: string, notes: string) =>
    plain<DevRelease>(App.CreateRelease(gameId, version, notes)),
  chooseBuildZip: () => App.ChooseBuildZip(),
  previewBuild: (releaseId: string, zip: string) => plain<BuildDiff>(App.PreviewBuild(releaseId, zip)),
  uploadBuild: (releaseId: string, zip: string) => App.UploadBuild(releaseId, zip),
  publishRelease: (releaseId: string) => plain<DevRelease>(App.PublishRelease(releaseId)),
  sales: (gameId: string) => plain<SalesReport>(App.Sales(gameId)),
  ledger: (gameId: string) => plain<LedgerEntry[]>(App.Ledger(gameId)),
  payouts: (gameId: string) => plain<Payout[]>(App.Payouts(gameId)),

  /** Copies text to the clipboard. */
  copy: async (text: string) => {
    if (await ClipboardSetText(text)) return
    await navigator.clipboard.writeText(text)
  },
  /** Opens an http(s) link in the system's browser (never inside the launcher). */
  openURL: (url: string) => {
    if (/^https?:\/\//i.test(url)) BrowserOpenURL(url)
  },
}
