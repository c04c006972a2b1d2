// Package regtest brings up a real Lightning network on this machine, for tests and for
// local runs: one btcd in regtest mode and two LND nodes, "platform" (Satchel's node: it
// receives purchases and pays payouts) and "buyer" (a player's wallet, and in tests the
// developer's node that payouts go to), joined by one channel with funds on both sides.
//
// The binaries are the ones `make setup-tools` builds: btcd and lnd (and btcctl, lncli for
// people) under $SATCHEL_TOOLS_DIR, by default ~/.cache/satchel/tools, in folders named
// after their pinned versions.
//
// A test package brings up its own network once, in TestMain:
//
//	func TestMain(m *testing.M) {
//		ctx := context.Background()
//		nw, err := regtest.Start(ctx, regtest.Options{})
//		if err != nil {
//			fmt.Fprintln(os.Stderr, err) // the tests fail, never skip
//			os.Exit(1)
//		}
//		network = nw
//		code := m.Run()
//		nw.Stop(ctx)
//		os.Exit(code)
//	}
//
// and makes providers with lnd.New(network.Platform.Config()).
package regtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Pinned versions, as in the Makefile.
const (
	BtcdVersion = "v0.24.2"
	LNDVersion  = "v0.21.2-beta"
)

// The channel Start opens from the buyer to the platform, in satoshis: the buyer pushes
// half of it to the platform, so each side can pay the other up to about PushSat.
const (
	ChannelSat = 10_000_000
	PushSat    = 5_000_000
)

// The buyer's wallet is made from this aezeed seed (made once by lnd's genseed; regtest
// only), so its first P2WKH address, which btcd mines to, is known before it starts. The
// platform's wallet is random (--noseedbackup).
var buyerSeed = strings.Fields(`about analyst cup metal rug toilet patient avoid art swap hair frown
	mansion brush ocean tourist noise strategy tool tired slender pretty uniform there`)

const buyerFirstAddress = "bcrt1q9krg3fwhqqkkmqwucnf4zrflmlf8j0zsg2mwns"

// Options configures Start.
type Options struct {
	// Dir holds everything the network writes: btcd/, platform/, buyer/ (each with its logs).
	// Start erases those three folders first: a regtest network is always new (btcd erases
	// its regtest chain at every start anyway). "" means a new temporary folder, removed by
	// Stop.
	Dir string
	// Logger receives progress. nil means slog.Default().
	Logger *slog.Logger
	// ToolsDir is where the binaries are looked for. "" means $SATCHEL_TOOLS_DIR, or else
	// satchel/tools in the user's cache folder (~/.cache).
	ToolsDir string
}

// Network is a running regtest network. Its methods are safe for concurrent use.
type Network struct {
	Dir      string
	Platform *Node
	Buyer    *Node
	// StartTime is how long Start took.
	StartTime time.Duration

	chain     *btcd
	btcctlBin string
	log       *slog.Logger
	removeDir bool

	mu      sync.Mutex // serializes Mine and Stop
	stopped bool
}

// Start brings up a new network and returns once payments can be routed both ways between
// the platform and the buyer. On failure it stops whatever it started and says where the
// logs are. The caller must call Stop.
func Start(ctx context.Context, o Options) (_ *Network, err error) {
	began := time.Now()
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	bins, err := findTools(o.ToolsDir)
	if err != nil {
		return nil, err
	}

	dir, removeDir := o.Dir, false
	if dir == "" {
		if dir, err = os.MkdirTemp("", "satchel-regtest-"); err != nil {
			return nil, fmt.Errorf("regtest: %w", err)
		}
		removeDir = true
	} else if dir, err = filepath.Abs(dir); err != nil {
		return nil, fmt.Errorf("regtest: Options.Dir: %w", err)
	}
	for _, sub := range []string{"btcd", "platform", "buyer"} {
		if err := os.RemoveAll(filepath.Join(dir, sub)); err != nil {
			return nil, fmt.Errorf("regtest: clear %s: %w", dir, err)
		}
	}
	buyer := newNode("buyer", filepath.Join(dir, "buyer"), bins.lnd, bins.lncli)
	buyer.seed = buyerSeed
	n := &Network{
		Dir:       dir,
		Platform:  newNode("platform", filepath.Join(dir, "platform"), bins.lnd, bins.lncli),
		Buyer:     buyer,
		chain:     &btcd{bin: bins.btcd, dir: filepath.Join(dir, "btcd")},
		btcctlBin: bins.btcctl,
		log:       log,
		removeDir: removeDir,
	}
	defer func() {
		if err != nil {
			n.kill()
			err = fmt.Errorf("%w\n(the network's logs are in %s)", err, dir)
		}
	}()
	if err := n.bringUp(ctx, began); err != nil {
		return nil, err
	}
	n.StartTime = time.Since(began)
	log.Info("regtest: network up", "dir", dir, "elapsed", n.StartTime.Round(time.Millisecond),
		"platform", n.Platform.RESTURL, "buyer", n.Buyer.RESTURL)
	return n, nil
}

// bringUp follows the recipe that works with btcd (TOOLCHAIN.md).
func (n *Network) bringUp(ctx context.Context, began time.Time) error {
	step := func(what string) {
		n.log.Debug("regtest: "+what, "elapsed", time.Since(began).Round(time.Millisecond))
	}
	if err := os.MkdirAll(n.chain.dir, 0o700); err != nil {
		return fmt.Errorf("regtest: %w", err)
	}
	if err := os.WriteFile(n.chain.configPath(), nil, 0o600); err != nil {
		return fmt.Errorf("regtest: %w", err)
	}

	// btcd first: LND needs a chain backend to start. btcd has no generatetoaddress: it
	// mines to --miningaddr, here the first address of the buyer's wallet, known in advance
	// because that wallet is made from a fixed seed.
	for attempt := 1; ; attempt++ {
		ports, err := freePorts(1)
		if err != nil {
			return err
		}
		n.chain.rpcPort = ports[0]
		err = n.chain.start(ctx, buyerFirstAddress)
		if err == nil {
			break
		}
		if attempt == 3 || n.chain.proc == nil || !addrInUse(n.chain.proc.logPath) {
			return err
		}
		n.chain.proc.kill()
	}
	step("btcd started")

	if err := both(func(nd *Node) error { return nd.start(ctx, n.chain) }, n.Platform, n.Buyer); err != nil {
		return err
	}
	step("lnd nodes started")

	addr, err := n.Buyer.newAddress(ctx)
	if err != nil {
		return err
	}
	if addr != buyerFirstAddress {
		// Not the address expected (another lnd version may derive differently): TOOLCHAIN.md's
		// recipe, restarting btcd with the buyer's address while the chain is still at genesis
		// (a restart erases it). It costs about 5 s: LND reconnects to btcd only after that.
		n.log.Warn("regtest: the buyer's first address is not the one expected: restarting btcd to mine to it",
			"got", addr, "want", buyerFirstAddress)
		if err := n.chain.stop(ctx); err != nil {
			return err
		}
		if err := n.chain.start(ctx, addr); err != nil {
			return err
		}
		step("btcd restarted with the buyer's mining address")
	}

	// Segwit activates at block 432 on btcd's regtest; coinbases mature after 100 blocks.
	height, err := n.chain.generate(ctx, 432)
	if err != nil {
		return err
	}
	step("mined 432 blocks")
	if err := both(func(nd *Node) error { return nd.waitSynced(ctx, height) }, n.Platform, n.Buyer); err != nil {
		return err
	}
	step("nodes synced")

	if err := both(func(nd *Node) error {
		info, err := nd.info(ctx)
		nd.Pubkey = info.IdentityPubkey
		return err
	}, n.Platform, n.Buyer); err != nil {
		return err
	}
	if err := n.Buyer.connect(ctx, n.Platform); err != nil {
		return err
	}
	if err := poll(ctx, time.Minute, "the buyer's channel to the platform to open", func() (bool, error) {
		// The buyer's wallet may still be scanning the mined blocks for its coinbases.
		err := n.Buyer.openChannel(ctx, n.Platform, ChannelSat, PushSat)
		return err == nil, err
	}); err != nil {
		return err
	}
	step("channel funding published")
	if height, err = n.chain.generate(ctx, 6); err != nil {
		return err
	}
	if err := both(func(nd *Node) error { return nd.waitSynced(ctx, height) }, n.Platform, n.Buyer); err != nil {
		return err
	}
	step("channel confirmed")

	// Both ways: `active: true` alone is not enough for a payment to find its path.
	return n.routable(ctx)
}

// both runs f for each node at once and returns the first error.
func both(f func(*Node) error, nodes ...*Node) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, nd := range nodes {
		wg.Go(func() { errs[i] = f(nd) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Mine mines n blocks (to the buyer's wallet) and returns once both nodes have seen them.
func (n *Network) Mine(ctx context.Context, blocks int) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return errors.New("regtest: Mine after Stop")
	}
	height, err := n.chain.generate(ctx, blocks)
	if err != nil {
		return err
	}
	return both(func(nd *Node) error { return nd.waitSynced(ctx, height) }, n.Platform, n.Buyer)
}

// Restart stops the node (SIGTERM) and starts it again on the same addresses with the same
// wallet, and returns once payments route both ways between the platform and the buyer again.
// Providers on the node see it go away and come back (the soak's LND restarts).
func (n *Network) Restart(ctx context.Context, nd *Node) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return errors.New("regtest: Restart after Stop")
	}
	if err := nd.stop(ctx); err != nil {
		return err
	}
	// The addresses were just released; another process may take one meanwhile, rarely.
	if err := poll(ctx, 30*time.Second, "lnd "+nd.Name+" to start again", func() (bool, error) {
		err := nd.launch(ctx, n.chain)
		if err != nil && nd.proc != nil && !addrInUse(nd.proc.logPath) {
			return false, &fatalError{err}
		}
		return err == nil, err
	}); err != nil {
		return err
	}
	return n.routable(ctx)
}

// routable waits until each node finds a route to the other.
func (n *Network) routable(ctx context.Context) error {
	return both(func(nd *Node) error {
		dest := n.Platform
		if nd == n.Platform {
			dest = n.Buyer
		}
		return poll(ctx, 2*time.Minute, "a route from "+nd.Name+" to "+dest.Name, func() (bool, error) {
			info, err := nd.info(ctx)
			if err != nil || info.NumActiveChannels == 0 {
				return false, err
			}
			return nd.hasRoute(ctx, dest, 100_000)
		})
	}, n.Platform, n.Buyer)
}

// Btcctl is btcctl set up for the network's btcd, for example n.Btcctl("getblockcount").
func (n *Network) Btcctl(args ...string) *exec.Cmd {
	base := []string{
		"--regtest",
		"--configfile=" + n.chain.configPath(),
		"--rpcserver=" + n.chain.rpcAddr(),
		"--rpcuser=" + btcdUser, "--rpcpass=" + btcdPass,
		"--rpccert=" + n.chain.certPath(),
	}
	return exec.Command(n.btcctlBin, append(base, args...)...)
}

// Stop shuts the network down, LND nodes first (an LND whose btcd is gone hangs on
// shutdown), and removes Dir if Start made it. Calling it again does nothing.
func (n *Network) Stop(ctx context.Context) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.stopped {
		return nil
	}
	n.stopped = true
	began := time.Now()
	err := both(func(nd *Node) error { return nd.stop(ctx) }, n.Platform, n.Buyer)
	err = errors.Join(err, n.chain.stop(ctx))
	if n.removeDir {
		err = errors.Join(err, os.RemoveAll(n.Dir))
	}
	n.log.Info("regtest: network stopped", "dir", n.Dir, "elapsed", time.Since(began).Round(time.Millisecond))
	return err
}

// kill ends every process at once, after a failed Start.
func (n *Network) kill() {
	for _, nd := range []*Node{n.Platform, n.Buyer} {
		if nd.proc != nil {
			nd.proc.kill()
		}
	}
	if n.chain.proc != nil {
		n.chain.proc.kill()
	}
}

type tools struct{ btcd, btcctl, lnd, lncli string }

// findTools locates the pinned binaries, or says how to build them.
func findTools(dir string) (tools, error) {
	if dir == "" {
		dir = os.Getenv("SATCHEL_TOOLS_DIR")
	}
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return tools{}, fmt.Errorf("regtest: no tools folder: set SATCHEL_TOOLS_DIR (%w)", err)
		}
		dir = filepath.Join(cache, "satchel", "tools")
	}
	btcdDir := filepath.Join(dir, "btcd-"+BtcdVersion)
	lndDir := filepath.Join(dir, "lnd-"+LNDVersion)
	t := tools{
		btcd:   filepath.Join(btcdDir, "btcd"),
		btcctl: filepath.Join(btcdDir, "btcctl"),
		lnd:    filepath.Join(lndDir, "lnd"),
		lncli:  filepath.Join(lndDir, "lncli"),
	}
	for _, bin := range []string{t.btcd, t.lnd} {
		if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return tools{}, fmt.Errorf("regtest: %s is missing: run make setup-tools (it builds btcd %s and lnd %s there)",
				bin, BtcdVersion, LNDVersion)
		}
	}
	return t, nil
}

// String describes the network for people: where each node is, and how to reach it.
func (n *Network) String() string {
	s := "regtest network in " + n.Dir + "\n  btcd RPC " + n.chain.rpcAddr() + "\n"
	for _, nd := range []*Node{n.Platform, n.Buyer} {
		s += "  " + nd.Name + ": REST " + nd.RESTURL + ", gRPC " + nd.RPCAddr + ", pubkey " + nd.Pubkey + "\n" +
			"    lncli: " + nd.Lncli().String() + "\n"
	}
	return s + "  channel: " + strconv.Itoa(ChannelSat) + " sat, " + strconv.Itoa(PushSat) + " sat on the platform's side\n"
}
