package regtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"satchel.dev/backend/lightning/lnd/internal/rest"
)

// btcd is the network's chain: one btcd in regtest mode, reached over its JSON-RPC.
type btcd struct {
	bin     string
	dir     string
	rpcPort int
	proc    *process
	http    *http.Client // set once rpc.cert exists
}

// The RPC login of the network's btcd (it listens on 127.0.0.1 only).
const (
	btcdUser = "satchel"
	btcdPass = "satchel"
)

func (b *btcd) certPath() string   { return filepath.Join(b.dir, "rpc.cert") }
func (b *btcd) configPath() string { return filepath.Join(b.dir, "empty.conf") }
func (b *btcd) rpcAddr() string    { return "127.0.0.1:" + strconv.Itoa(b.rpcPort) }

// start starts btcd, mining to miningAddr if not "", and waits until it answers RPCs. btcd
// erases its regtest chain at every start: a restart is back at the genesis block.
func (b *btcd) start(ctx context.Context, miningAddr string) error {
	args := []string{
		"--regtest", "--txindex", "--nolisten",
		// An empty config file: btcd would otherwise write a sample one to ~/.btcd. (It still
		// creates that folder, empty: it finds ~ from the user database, not $HOME.)
		"--configfile=" + b.configPath(),
		"--datadir=" + filepath.Join(b.dir, "data"),
		"--logdir=" + filepath.Join(b.dir, "logs"),
		"--rpccert=" + b.certPath(),
		"--rpckey=" + filepath.Join(b.dir, "rpc.key"),
		"--rpclisten=" + b.rpcAddr(),
		"--rpcuser=" + btcdUser, "--rpcpass=" + btcdPass,
	}
	if miningAddr != "" {
		args = append(args, "--miningaddr="+miningAddr)
	}
	proc, err := startProcess("btcd", b.bin, args, os.Environ(), filepath.Join(b.dir, "btcd.out"))
	if err != nil {
		return err
	}
	b.proc = proc
	return poll(ctx, time.Minute, "btcd to answer RPCs on "+b.rpcAddr(), func() (bool, error) {
		if done, _ := proc.exited(); done {
			return false, &fatalError{proc.exitError()}
		}
		if b.http == nil {
			if _, err := os.Stat(b.certPath()); err != nil {
				return false, err
			}
			if err := b.connect(); err != nil {
				return false, err
			}
		}
		_, err := b.blockCount(ctx)
		return err == nil, err
	})
}

// connect makes the RPC client, pinned to btcd's rpc.cert.
func (b *btcd) connect() error {
	cert, err := rest.ReadCert(b.certPath())
	if err != nil {
		return err
	}
	b.http = &http.Client{
		Timeout: 2 * time.Minute, // generate 432 takes a few seconds
		Transport: &http.Transport{TLSClientConfig: &tls.Config{
			MinVersion:         tls.VersionTLS12,
			InsecureSkipVerify: true, //nolint:gosec // pinned below
			VerifyConnection: func(cs tls.ConnectionState) error {
				if len(cs.PeerCertificates) == 0 || !cs.PeerCertificates[0].Equal(cert) {
					return fmt.Errorf("btcd's TLS certificate is not the one in %s", b.certPath())
				}
				return nil
			},
		}},
	}
	return nil
}

// call makes one JSON-RPC call.
func (b *btcd) call(ctx context.Context, method string, out any, params ...any) error {
	if params == nil {
		params = []any{}
	}
	body, _ := json.Marshal(map[string]any{"jsonrpc": "1.0", "id": 1, "method": method, "params": params})
	req, err := http.NewRequestWithContext(ctx, "POST", "https://"+b.rpcAddr(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.SetBasicAuth(btcdUser, btcdPass)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		return fmt.Errorf("btcd %s: %w", method, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("btcd %s: %w", method, err)
	}
	var res struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return fmt.Errorf("btcd %s: HTTP %d: %s", method, resp.StatusCode, bytes.TrimSpace(data))
	}
	if res.Error != nil {
		return fmt.Errorf("btcd %s: %s (code %d)", method, res.Error.Message, res.Error.Code)
	}
	if out != nil {
		return json.Unmarshal(res.Result, out)
	}
	return nil
}

func (b *btcd) blockCount(ctx context.Context) (int64, error) {
	var n int64
	err := b.call(ctx, "getblockcount", &n)
	return n, err
}

// generate mines n blocks to the mining address and returns the new height.
func (b *btcd) generate(ctx context.Context, n int) (int64, error) {
	if err := b.call(ctx, "generate", nil, n); err != nil {
		return 0, fmt.Errorf("regtest: mine %d blocks: %w", n, err)
	}
	return b.blockCount(ctx)
}

// stop shuts btcd down.
func (b *btcd) stop(ctx context.Context) error {
	if b.proc == nil {
		return nil
	}
	err := b.proc.stop(ctx, 10*time.Second)
	b.proc = nil
	return err
}
