export namespace app {
	
	export class GameView {
	    game: core.StoreGame;
	    owned: boolean;
	    entry?: library.Entry;
	    job?: install.Progress;
	    paused: boolean;
	    running: boolean;
	    offline?: string;
	    guest: boolean;
	
	    static createFrom(source: any = {}) {
	        return new GameView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.game = this.convertValues(source["game"], core.StoreGame);
	        this.owned = source["owned"];
	        this.entry = this.convertValues(source["entry"], library.Entry);
	        this.job = this.convertValues(source["job"], install.Progress);
	        this.paused = source["paused"];
	        this.running = source["running"];
	        this.offline = source["offline"];
	        this.guest = source["guest"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class Identity {
	    pubkey: string;
	    npub: string;
	    label?: string;
	    // Go type: time
	    created_at: any;
	    active: boolean;
	
	    static createFrom(source: any = {}) {
	        return new Identity(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.pubkey = source["pubkey"];
	        this.npub = source["npub"];
	        this.label = source["label"];
	        this.created_at = this.convertValues(source["created_at"], null);
	        this.active = source["active"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class LibraryGame {
	    entry: library.Entry;
	    job?: install.Progress;
	    paused: boolean;
	    running: boolean;
	    size?: install.Size;
	
	    static createFrom(source: any = {}) {
	        return new LibraryGame(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.entry = this.convertValues(source["entry"], library.Entry);
	        this.job = this.convertValues(source["job"], install.Progress);
	        this.paused = source["paused"];
	        this.running = source["running"];
	        this.size = this.convertValues(source["size"], install.Size);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class LibraryView {
	    games: LibraryGame[];
	    sync: library.SyncStatus;
	    error?: string;
	
	    static createFrom(source: any = {}) {
	        return new LibraryView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.games = this.convertValues(source["games"], LibraryGame);
	        this.sync = this.convertValues(source["sync"], library.SyncStatus);
	        this.error = source["error"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class Session {
	    slug: string;
	    version: string;
	    pid: number;
	    rolled_back?: core.Rollback;
	
	    static createFrom(source: any = {}) {
	        return new Session(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.slug = source["slug"];
	        this.version = source["version"];
	        this.pid = source["pid"];
	        this.rolled_back = this.convertValues(source["rolled_back"], core.Rollback);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class SettingsView {
	    server: string;
	    library: string;
	    moving: boolean;
	    speed_limit: number;
	    auto_update: boolean;
	    keep_downloads: boolean;
	    server_fixed: boolean;
	
	    static createFrom(source: any = {}) {
	        return new SettingsView(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.server = source["server"];
	        this.library = source["library"];
	        this.moving = source["moving"];
	        this.speed_limit = source["speed_limit"];
	        this.auto_update = source["auto_update"];
	        this.keep_downloads = source["keep_downloads"];
	        this.server_fixed = source["server_fixed"];
	    }
	}
	export class Status {
	    identity?: Identity;
	    keyring_error?: string;
	    error?: string;
	    server: string;
	    test_money: boolean;
	    sync: library.SyncStatus;
	    route?: string;
	    recovered?: string[];
	    os: string;
	    dirs: settings.Dirs;
	
	    static createFrom(source: any = {}) {
	        return new Status(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.identity = this.convertValues(source["identity"], Identity);
	        this.keyring_error = source["keyring_error"];
	        this.error = source["error"];
	        this.server = source["server"];
	        this.test_money = source["test_money"];
	        this.sync = this.convertValues(source["sync"], library.SyncStatus);
	        this.route = source["route"];
	        this.recovered = source["recovered"];
	        this.os = source["os"];
	        this.dirs = this.convertValues(source["dirs"], settings.Dirs);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}

}

export namespace core {
	
	export class Account {
	    pubkey: string;
	    npub: string;
	    display_name?: string;
	    developer: boolean;
	    payout_address?: string;
	    studio?: string;
	    admin?: boolean;
	
	    static createFrom(source: any = {}) {
	        return new Account(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.pubkey = source["pubkey"];
	        this.npub = source["npub"];
	        this.display_name = source["display_name"];
	        this.developer = source["developer"];
	        this.payout_address = source["payout_address"];
	        this.studio = source["studio"];
	        this.admin = source["admin"];
	    }
	}
	export class FileChange {
	    path: string;
	    size: number;
	    old_size?: number;
	
	    static createFrom(source: any = {}) {
	        return new FileChange(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.path = source["path"];
	        this.size = source["size"];
	        this.old_size = source["old_size"];
	    }
	}
	export class BuildDiff {
	    zip: string;
	    size: number;
	    files: number;
	    installed_bytes: number;
	    against?: string;
	    added: FileChange[];
	    removed: FileChange[];
	    changed: FileChange[];
	    unchanged: number;
	    gaps: launch.Gap[];
	
	    static createFrom(source: any = {}) {
	        return new BuildDiff(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.zip = source["zip"];
	        this.size = source["size"];
	        this.files = source["files"];
	        this.installed_bytes = source["installed_bytes"];
	        this.against = source["against"];
	        this.added = this.convertValues(source["added"], FileChange);
	        this.removed = this.convertValues(source["removed"], FileChange);
	        this.changed = this.convertValues(source["changed"], FileChange);
	        this.unchanged = source["unchanged"];
	        this.gaps = this.convertValues(source["gaps"], launch.Gap);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class BuildInfo {
	    sha256: string;
	    size: number;
	    file_count: number;
	    installed_bytes: number;
	
	    static createFrom(source: any = {}) {
	        return new BuildInfo(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.sha256 = source["sha256"];
	        this.size = source["size"];
	        this.file_count = source["file_count"];
	        this.installed_bytes = source["installed_bytes"];
	    }
	}
	export class Image {
	    id: string;
	    url: string;
	    width: number;
	    height: number;
	
	    static createFrom(source: any = {}) {
	        return new Image(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.url = source["url"];
	        this.width = source["width"];
	        this.height = source["height"];
	    }
	}
	export class UploadProgress {
	    release_id: string;
	    phase: string;
	    done: number;
	    total: number;
	    bytes_per_second?: number;
	    eta?: number;
	    error?: string;
	
	    static createFrom(source: any = {}) {
	        return new UploadProgress(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.release_id = source["release_id"];
	        this.phase = source["phase"];
	        this.done = source["done"];
	        this.total = source["total"];
	        this.bytes_per_second = source["bytes_per_second"];
	        this.eta = source["eta"];
	        this.error = source["error"];
	    }
	}
	export class DevRelease {
	    id: string;
	    game_id: string;
	    version: string;
	    notes_md: string;
	    // Go type: time
	    created_at: any;
	    published: boolean;
	    // Go type: time
	    published_at: any;
	    build?: BuildInfo;
	    upload?: UploadProgress;
	
	    static createFrom(source: any = {}) {
	        return new DevRelease(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.game_id = source["game_id"];
	        this.version = source["version"];
	        this.notes_md = source["notes_md"];
	        this.created_at = this.convertValues(source["created_at"], null);
	        this.published = source["published"];
	        this.published_at = this.convertValues(source["published_at"], null);
	        this.build = this.convertValues(source["build"], BuildInfo);
	        this.upload = this.convertValues(source["upload"], UploadProgress);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class DevGame {
	    id: string;
	    slug: string;
	    title: string;
	    summary: string;
	    description_md: string;
	    price_msat: number;
	    status: string;
	    releases: DevRelease[];
	    cover?: Image;
	    screenshots: Image[];
	
	    static createFrom(source: any = {}) {
	        return new DevGame(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.slug = source["slug"];
	        this.title = source["title"];
	        this.summary = source["summary"];
	        this.description_md = source["description_md"];
	        this.price_msat = source["price_msat"];
	        this.status = source["status"];
	        this.releases = this.convertValues(source["releases"], DevRelease);
	        this.cover = this.convertValues(source["cover"], Image);
	        this.screenshots = this.convertValues(source["screenshots"], Image);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	
	export class GameCard {
	    id: string;
	    slug: string;
	    title: string;
	    summary: string;
	    price_msat: number;
	    featured: boolean;
	    developer?: string;
	    latest?: string;
	    latest_size?: number;
	    cover?: Image;
	    owned: boolean;
	
	    static createFrom(source: any = {}) {
	        return new GameCard(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.slug = source["slug"];
	        this.title = source["title"];
	        this.summary = source["summary"];
	        this.price_msat = source["price_msat"];
	        this.featured = source["featured"];
	        this.developer = source["developer"];
	        this.latest = source["latest"];
	        this.latest_size = source["latest_size"];
	        this.cover = this.convertValues(source["cover"], Image);
	        this.owned = source["owned"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class GameDraft {
	    slug: string;
	    title: string;
	    summary: string;
	    description_md: string;
	    price_msat: number;
	
	    static createFrom(source: any = {}) {
	        return new GameDraft(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.slug = source["slug"];
	        this.title = source["title"];
	        this.summary = source["summary"];
	        this.description_md = source["description_md"];
	        this.price_msat = source["price_msat"];
	    }
	}
	export class GamePage {
	    games: GameCard[];
	    next?: string;
	
	    static createFrom(source: any = {}) {
	        return new GamePage(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.games = this.convertValues(source["games"], GameCard);
	        this.next = source["next"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	export class LedgerEntry {
	    id: string;
	    purchase_id: string;
	    type: string;
	    amount_msat: number;
	    // Go type: time
	    created_at: any;
	
	    static createFrom(source: any = {}) {
	        return new LedgerEntry(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.purchase_id = source["purchase_id"];
	        this.type = source["type"];
	        this.amount_msat = source["amount_msat"];
	        this.created_at = this.convertValues(source["created_at"], null);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class Payout {
	    id: string;
	    purchase_id: string;
	    ln_address: string;
	    amount_msat: number;
	    status: string;
	    attempts: number;
	    last_error?: string;
	    // Go type: time
	    sent_at: any;
	    // Go type: time
	    created_at: any;
	
	    static createFrom(source: any = {}) {
	        return new Payout(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.purchase_id = source["purchase_id"];
	        this.ln_address = source["ln_address"];
	        this.amount_msat = source["amount_msat"];
	        this.status = source["status"];
	        this.attempts = source["attempts"];
	        this.last_error = source["last_error"];
	        this.sent_at = this.convertValues(source["sent_at"], null);
	        this.created_at = this.convertValues(source["created_at"], null);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class Purchase {
	    id: string;
	    game_id: string;
	    slug: string;
	    title: string;
	    status: string;
	    amount_msat: number;
	    invoice?: string;
	    // Go type: time
	    expires_at: any;
	    test_money: boolean;
	    guest?: boolean;
	    receipt_code?: string;
	    failure_reason?: string;
	    reconnecting?: boolean;
	
	    static createFrom(source: any = {}) {
	        return new Purchase(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.game_id = source["game_id"];
	        this.slug = source["slug"];
	        this.title = source["title"];
	        this.status = source["status"];
	        this.amount_msat = source["amount_msat"];
	        this.invoice = source["invoice"];
	        this.expires_at = this.convertValues(source["expires_at"], null);
	        this.test_money = source["test_money"];
	        this.guest = source["guest"];
	        this.receipt_code = source["receipt_code"];
	        this.failure_reason = source["failure_reason"];
	        this.reconnecting = source["reconnecting"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class Rollback {
	    from: string;
	    to: string;
	    reason: string;
	
	    static createFrom(source: any = {}) {
	        return new Rollback(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.from = source["from"];
	        this.to = source["to"];
	        this.reason = source["reason"];
	    }
	}
	export class Sale {
	    purchase_id: string;
	    game_title: string;
	    status: string;
	    price_msat: number;
	    fee_msat: number;
	    net_msat: number;
	    // Go type: time
	    paid_at: any;
	    payout_status?: string;
	
	    static createFrom(source: any = {}) {
	        return new Sale(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.purchase_id = source["purchase_id"];
	        this.game_title = source["game_title"];
	        this.status = source["status"];
	        this.price_msat = source["price_msat"];
	        this.fee_msat = source["fee_msat"];
	        this.net_msat = source["net_msat"];
	        this.paid_at = this.convertValues(source["paid_at"], null);
	        this.payout_status = source["payout_status"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class SalesTotals {
	    count: number;
	    gross_msat: number;
	    fee_msat: number;
	    net_msat: number;
	    sent_msat: number;
	    pending_msat: number;
	    failed_msat: number;
	
	    static createFrom(source: any = {}) {
	        return new SalesTotals(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.count = source["count"];
	        this.gross_msat = source["gross_msat"];
	        this.fee_msat = source["fee_msat"];
	        this.net_msat = source["net_msat"];
	        this.sent_msat = source["sent_msat"];
	        this.pending_msat = source["pending_msat"];
	        this.failed_msat = source["failed_msat"];
	    }
	}
	export class SalesReport {
	    totals: SalesTotals;
	    sales: Sale[];
	
	    static createFrom(source: any = {}) {
	        return new SalesReport(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.totals = this.convertValues(source["totals"], SalesTotals);
	        this.sales = this.convertValues(source["sales"], Sale);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	
	export class StoreRelease {
	    version: string;
	    notes_md?: string;
	    // Go type: time
	    published_at: any;
	    size?: number;
	    installed_bytes?: number;
	
	    static createFrom(source: any = {}) {
	        return new StoreRelease(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.version = source["version"];
	        this.notes_md = source["notes_md"];
	        this.published_at = this.convertValues(source["published_at"], null);
	        this.size = source["size"];
	        this.installed_bytes = source["installed_bytes"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class StoreGame {
	    id: string;
	    slug: string;
	    title: string;
	    summary: string;
	    price_msat: number;
	    featured: boolean;
	    developer?: string;
	    latest?: string;
	    latest_size?: number;
	    cover?: Image;
	    owned: boolean;
	    description_md: string;
	    screenshots: Image[];
	    releases: StoreRelease[];
	
	    static createFrom(source: any = {}) {
	        return new StoreGame(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.id = source["id"];
	        this.slug = source["slug"];
	        this.title = source["title"];
	        this.summary = source["summary"];
	        this.price_msat = source["price_msat"];
	        this.featured = source["featured"];
	        this.developer = source["developer"];
	        this.latest = source["latest"];
	        this.latest_size = source["latest_size"];
	        this.cover = this.convertValues(source["cover"], Image);
	        this.owned = source["owned"];
	        this.description_md = source["description_md"];
	        this.screenshots = this.convertValues(source["screenshots"], Image);
	        this.releases = this.convertValues(source["releases"], StoreRelease);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	

}

export namespace install {
	
	export class Issue {
	    path: string;
	    problem: string;
	
	    static createFrom(source: any = {}) {
	        return new Issue(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.path = source["path"];
	        this.problem = source["problem"];
	    }
	}
	export class Progress {
	    slug: string;
	    version?: string;
	    phase: string;
	    done: number;
	    total: number;
	    build_size?: number;
	    bytes_per_second?: number;
	    eta?: number;
	    resumed?: number;
	    error?: string;
	
	    static createFrom(source: any = {}) {
	        return new Progress(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.slug = source["slug"];
	        this.version = source["version"];
	        this.phase = source["phase"];
	        this.done = source["done"];
	        this.total = source["total"];
	        this.build_size = source["build_size"];
	        this.bytes_per_second = source["bytes_per_second"];
	        this.eta = source["eta"];
	        this.resumed = source["resumed"];
	        this.error = source["error"];
	    }
	}
	export class Report {
	    slug: string;
	    version: string;
	    dir: string;
	    checked: number;
	    damaged?: Issue[];
	    repaired?: string[];
	    extra?: string[];
	    fetched_bytes?: number;
	
	    static createFrom(source: any = {}) {
	        return new Report(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.slug = source["slug"];
	        this.version = source["version"];
	        this.dir = source["dir"];
	        this.checked = source["checked"];
	        this.damaged = this.convertValues(source["damaged"], Issue);
	        this.repaired = source["repaired"];
	        this.extra = source["extra"];
	        this.fetched_bytes = source["fetched_bytes"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class Size {
	    version: string;
	    fetch_bytes: number;
	    build_size: number;
	    update?: boolean;
	    done_bytes: number;
	
	    static createFrom(source: any = {}) {
	        return new Size(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.version = source["version"];
	        this.fetch_bytes = source["fetch_bytes"];
	        this.build_size = source["build_size"];
	        this.update = source["update"];
	        this.done_bytes = source["done_bytes"];
	    }
	}

}

export namespace launch {
	
	export class Gap {
	    platform: string;
	    reason: string;
	
	    static createFrom(source: any = {}) {
	        return new Gap(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.platform = source["platform"];
	        this.reason = source["reason"];
	    }
	}

}

export namespace library {
	
	export class Entry {
	    slug: string;
	    game_id: string;
	    title?: string;
	    owned: boolean;
	    guest?: boolean;
	    status: string;
	    installed?: string;
	    previous?: string;
	    latest?: string;
	    dir?: string;
	    installing?: string;
	    step?: string;
	    failed?: state.Failure;
	    auto_update: boolean;
	    last_run?: state.Run;
	
	    static createFrom(source: any = {}) {
	        return new Entry(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.slug = source["slug"];
	        this.game_id = source["game_id"];
	        this.title = source["title"];
	        this.owned = source["owned"];
	        this.guest = source["guest"];
	        this.status = source["status"];
	        this.installed = source["installed"];
	        this.previous = source["previous"];
	        this.latest = source["latest"];
	        this.dir = source["dir"];
	        this.installing = source["installing"];
	        this.step = source["step"];
	        this.failed = this.convertValues(source["failed"], state.Failure);
	        this.auto_update = source["auto_update"];
	        this.last_run = this.convertValues(source["last_run"], state.Run);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class SyncStatus {
	    connected: boolean;
	    // Go type: time
	    last_sync: any;
	    last_error?: string;
	    reconnects: number;
	
	    static createFrom(source: any = {}) {
	        return new SyncStatus(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.connected = source["connected"];
	        this.last_sync = this.convertValues(source["last_sync"], null);
	        this.last_error = source["last_error"];
	        this.reconnects = source["reconnects"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}

}

export namespace settings {
	
	export class Dirs {
	    data: string;
	    config: string;
	    state: string;
	
	    static createFrom(source: any = {}) {
	        return new Dirs(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.data = source["data"];
	        this.config = source["config"];
	        this.state = source["state"];
	    }
	}

}

export namespace state {
	
	export class Failure {
	    release_id: string;
	    version: string;
	    reason: string;
	    // Go type: time
	    at: any;
	
	    static createFrom(source: any = {}) {
	        return new Failure(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.release_id = source["release_id"];
	        this.version = source["version"];
	        this.reason = source["reason"];
	        this.at = this.convertValues(source["at"], null);
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}
	export class Run {
	    version: string;
	    // Go type: time
	    started_at: any;
	    // Go type: time
	    ended_at: any;
	    exit_code: number;
	    error?: string;
	    tail?: string[];
	
	    static createFrom(source: any = {}) {
	        return new Run(source);
	    }
	
	    constructor(source: any = {}) {
	        if ('string' === typeof source) source = JSON.parse(source);
	        this.version = source["version"];
	        this.started_at = this.convertValues(source["started_at"], null);
	        this.ended_at = this.convertValues(source["ended_at"], null);
	        this.exit_code = source["exit_code"];
	        this.error = source["error"];
	        this.tail = source["tail"];
	    }
	
		convertValues(a: any, classs: any, asMap: boolean = false): any {
		    if (!a) {
		        return a;
		    }
		    if (a.slice && a.map) {
		        return (a as any[]).map(elem => this.convertValues(elem, classs));
		    } else if ("object" === typeof a) {
		        if (asMap) {
		            for (const key of Object.keys(a)) {
		                a[key] = new classs(a[key]);
		            }
		            return a;
		        }
		        return new classs(a);
		    }
		    return a;
		}
	}

}

