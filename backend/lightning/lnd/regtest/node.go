package regtest

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"satchel.dev/backend/lightning/lnd"
	"satchel.dev/backend/lightning/lnd/internal/rest"
)

// Node is one LND node of the network.
type Node struct {
	Name         string // "platform" or "buyer"
	Dir          string // its --lnddir
	RESTURL      string // https://127.0.0.1:port
	RPCAddr      string // 127.0.0.1:port, gRPC (lncli)
	P2PAddr      string // 127.0.0.1:port, Lightning peers
	TLSCertPath  string
	MacaroonPath string // admin.macaroon
	Pubkey       string // identity public key, hex

	lndBin, lncliBin string
	seed             []string // aezeed words of the wallet; nil: a random one (--noseedbackup)
	proc             *process
	client           *rest.Client // admin macaroon; set once the wallet exists
}

// Config is the lnd.Config of a provider on this node.
func (nd *Node) Config() lnd.Config {
	return lnd.Config{
		URL:          nd.RESTURL,
		TLSCertPath:  nd.TLSCertPath,
		MacaroonPath: nd.MacaroonPath,
		Network:      "bcrt",
		Timeout:      30 * time.Second,
	}
}

// Lncli is lncli set up for this node: run it, or print cmd.String() to show someone how to
// reach the node by hand. For example n.Buyer.Lncli("payinvoice", "--force", bolt11).
func (nd *Node) Lncli(args ...string) *exec.Cmd {
	base := []string{
		"--network=regtest",
		"--lnddir=" + nd.Dir,
		"--rpcserver=" + nd.RPCAddr,
		"--tlscertpath=" + nd.TLSCertPath,
		"--macaroonpath=" + nd.MacaroonPath,
	}
	return exec.Command(nd.lncliBin, append(base, args...)...)
}

func newNode(name, dir, lndBin, lncliBin string) *Node {
	return &Node{
		Name:         name,
		Dir:          dir,
		TLSCertPath:  filepath.Join(dir, "tls.cert"),
		MacaroonPath: filepath.Join(dir, "data", "chain", "bitcoin", "regtest", "admin.macaroon"),
		lndBin:       lndBin,
		lncliBin:     lncliBin,
	}
}

// start starts lnd with fresh ports (again with others if one was taken meanwhile) and
// waits until its wallet exists and its RPCs answer.
func (nd *Node) start(ctx context.Context, chain *btcd) error {
	if err := os.MkdirAll(nd.Dir, 0o700); err != nil {
		return fmt.Errorf("regtest: %s: %w", nd.Name, err)
	}
	var err error
	for attempt := 1; ; attempt++ {
		err = nd.startOnce(ctx, chain)
		if err == nil || attempt == 3 || nd.proc == nil || !addrInUse(nd.proc.logPath) {
			return err
		}
	}
}

func (nd *Node) startOnce(ctx context.Context, chain *btcd) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	nd.P2PAddr = "127.0.0.1:" + strconv.Itoa(ports[0])
	nd.RPCAddr = "127.0.0.1:" + strconv.Itoa(ports[1])
	nd.RESTURL = "https://127.0.0.1:" + strconv.Itoa(ports[2])
	return nd.launch(ctx, chain)
}

// launch runs lnd on the node's addresses and waits until its wallet exists (or is unlocked)
// and its RPCs answer.
func (nd *Node) launch(ctx context.Context, chain *btcd) error {
	args := []string{
		"--lnddir=" + nd.Dir,
		"--alias=" + nd.Name,
		"--bitcoin.regtest", "--bitcoin.node=btcd",
		"--btcd.rpchost=" + chain.rpcAddr(),
		"--btcd.rpcuser=" + btcdUser, "--btcd.rpcpass=" + btcdPass,
		"--btcd.rpccert=" + chain.certPath(),
		"--listen=" + nd.P2PAddr,
		"--rpclisten=" + nd.RPCAddr,
		"--restlisten=" + nd.RESTURL[len("https://"):],
		"--trickledelay=50",
		"--nobootstrap",
		"--logging.console.disable",
	}
	if nd.seed == nil {
		args = append(args, "--noseedbackup") // creates and unlocks a wallet by itself
	}
	proc, err := startProcess("lnd "+nd.Name, nd.lndBin, args, os.Environ(), filepath.Join(nd.Dir, "lnd.out"))
	if err != nil {
		return err
	}
	nd.proc = proc
	// The wallet is created (with --noseedbackup by lnd itself, else here from the seed when
	// lnd asks for one) and unlocked; RPC_ACTIVE follows.
	var state *rest.Client
	initialized := false
	err = poll(ctx, 2*time.Minute, "lnd "+nd.Name+" to start", func() (bool, error) {
		if done, _ := proc.exited(); done {
			return false, &fatalError{proc.exitError()}
		}
		if state == nil {
			c, err := rest.New(nd.RESTURL, nd.TLSCertPath, nil, 30*time.Second)
			if err != nil {
				return false, err // no tls.cert yet
			}
			state = c
		}
		var s struct {
			State string `json:"state"`
		}
		if err := state.Do(ctx, "GET", "/v1/state", nil, &s); err != nil {
			return false, err
		}
		if s.State == "NON_EXISTING" && nd.seed != nil && !initialized {
			if err := nd.initWallet(ctx, state); err != nil {
				return false, err
			}
			initialized = true
		}
		if s.State == "LOCKED" && nd.seed != nil && !initialized { // a restart
			if err := state.Do(ctx, "POST", "/v1/unlockwallet", map[string]any{"wallet_password": []byte(walletPassword)}, nil); err != nil {
				return false, err
			}
			initialized = true
		}
		if s.State != "RPC_ACTIVE" && s.State != "SERVER_ACTIVE" {
			return false, fmt.Errorf("state %s", s.State)
		}
		return true, nil
	})
	if state != nil {
		state.CloseIdle()
	}
	if err != nil {
		proc.kill()
		return err
	}
	mac, err := os.ReadFile(nd.MacaroonPath)
	if err != nil {
		proc.kill()
		return fmt.Errorf("regtest: lnd %s: %w", nd.Name, err)
	}
	nd.client, err = rest.New(nd.RESTURL, nd.TLSCertPath, mac, 30*time.Second)
	if err != nil {
		proc.kill()
		return fmt.Errorf("regtest: lnd %s: %w", nd.Name, err)
	}
	return nil
}

// walletPassword unlocks the wallets made from a seed (regtest only).
const walletPassword = "satchel-regtest"

// initWallet creates the node's wallet from nd.seed.
func (nd *Node) initWallet(ctx context.Context, c *rest.Client) error {
	req := struct {
		WalletPassword     []byte   `json:"wallet_password"`
		CipherSeedMnemonic []string `json:"cipher_seed_mnemonic"`
	}{[]byte(walletPassword), nd.seed}
	if err := c.Do(ctx, "POST", "/v1/initwallet", req, nil); err != nil {
		return fmt.Errorf("create the wallet: %w", err)
	}
	return nil
}

// call calls the node's REST API with its admin macaroon.
func (nd *Node) call(ctx context.Context, method, path string, in, out any) error {
	if err := nd.client.Do(ctx, method, path, in, out); err != nil {
		return fmt.Errorf("regtest: lnd %s: %w", nd.Name, err)
	}
	return nil
}

type nodeInfo struct {
	IdentityPubkey    string `json:"identity_pubkey"`
	BlockHeight       int64  `json:"block_height"`
	SyncedToChain     bool   `json:"synced_to_chain"`
	NumActiveChannels int    `json:"num_active_channels"`
}

func (nd *Node) info(ctx context.Context) (nodeInfo, error) {
	var info nodeInfo
	err := nd.call(ctx, "GET", "/v1/getinfo", nil, &info)
	return info, err
}

// waitSynced waits until the node has caught up with the chain at height.
func (nd *Node) waitSynced(ctx context.Context, height int64) error {
	return poll(ctx, 2*time.Minute, fmt.Sprintf("lnd %s to sync to block %d", nd.Name, height), func() (bool, error) {
		if done, _ := nd.proc.exited(); done {
			return false, &fatalError{nd.proc.exitError()}
		}
		info, err := nd.info(ctx)
		if err != nil {
			return false, err
		}
		if info.BlockHeight < height || !info.SyncedToChain {
			return false, fmt.Errorf("at block %d, synced %t", info.BlockHeight, info.SyncedToChain)
		}
		return true, nil
	})
}

// newAddress is a new P2WKH address of the node's wallet.
func (nd *Node) newAddress(ctx context.Context) (string, error) {
	var resp struct {
		Address string `json:"address"`
	}
	err := nd.call(ctx, "GET", "/v1/newaddress?type=WITNESS_PUBKEY_HASH", nil, &resp)
	return resp.Address, err
}

// connect makes to a peer of nd.
func (nd *Node) connect(ctx context.Context, to *Node) error {
	req := map[string]any{
		"addr": map[string]string{"pubkey": to.Pubkey, "host": to.P2PAddr},
		"perm": false,
	}
	err := nd.call(ctx, "POST", "/v1/peers", req, nil)
	if err != nil && rest.HasMessage(err, "already connected") {
		return nil
	}
	return err
}

// openChannel opens a channel of capacity sat to peer, giving it push sat of it, and
// returns once the funding transaction is published.
func (nd *Node) openChannel(ctx context.Context, to *Node, capacity, push int64) error {
	pub, err := hex.DecodeString(to.Pubkey)
	if err != nil {
		return err
	}
	req := struct {
		NodePubkey         []byte `json:"node_pubkey"`
		LocalFundingAmount int64  `json:"local_funding_amount,string"`
		PushSat            int64  `json:"push_sat,string"`
		SatPerVbyte        uint64 `json:"sat_per_vbyte,string"`
	}{pub, capacity, push, 2}
	return nd.call(ctx, "POST", "/v1/channels", req, nil)
}

// hasRoute reports whether the node finds a route paying amtSat to dest.
func (nd *Node) hasRoute(ctx context.Context, dest *Node, amtSat int64) (bool, error) {
	var resp struct {
		Routes []json.RawMessage `json:"routes"`
	}
	err := nd.call(ctx, "GET", "/v1/graph/routes/"+dest.Pubkey+"/"+strconv.FormatInt(amtSat, 10), nil, &resp)
	if err != nil {
		return false, err
	}
	return len(resp.Routes) > 0, nil
}

// stop shuts lnd down (SIGTERM, then SIGKILL after a grace period).
func (nd *Node) stop(ctx context.Context) error {
	if nd.client != nil {
		nd.client.CloseIdle()
	}
	if nd.proc == nil {
		return nil
	}
	err := nd.proc.stop(ctx, 15*time.Second)
	nd.proc = nil
	return err
}
