package regtest

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"satchel.dev/backend/lightning/lnd"
)

func TestStartMineStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	n, err := Start(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("network up in %v", n.StartTime.Round(time.Millisecond))
	stopped := false
	defer func() {
		if !stopped {
			n.Stop(ctx)
		}
	}()

	for _, nd := range []*Node{n.Platform, n.Buyer} {
		p, err := lnd.New(nd.Config())
		if err != nil {
			t.Fatalf("%s: %v", nd.Name, err)
		}
		if p.Pubkey() != nd.Pubkey {
			t.Errorf("%s: provider pubkey %s, node pubkey %s", nd.Name, p.Pubkey(), nd.Pubkey)
		}
		p.Close()
	}

	before, err := n.chain.blockCount(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Mine(ctx, 3); err != nil {
		t.Fatal(err)
	}
	out, err := n.Btcctl("getblockcount").Output()
	if err != nil {
		t.Fatalf("btcctl getblockcount: %v", err)
	}
	if got, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); got != before+3 {
		t.Fatalf("btcctl getblockcount = %s, want %d", out, before+3)
	}

	out, err = n.Buyer.Lncli("getinfo").Output()
	if err != nil {
		t.Fatalf("lncli getinfo: %v", err)
	}
	var info struct {
		Alias             string `json:"alias"`
		BlockHeight       int64  `json:"block_height"`
		NumActiveChannels int    `json:"num_active_channels"`
	}
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatal(err)
	}
	if info.Alias != "buyer" || info.BlockHeight != before+3 || info.NumActiveChannels != 1 {
		t.Fatalf("lncli getinfo: %+v", info)
	}

	procs := []*process{n.Platform.proc, n.Buyer.proc, n.chain.proc}
	if err := n.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	stopped = true
	for _, p := range procs {
		if done, _ := p.exited(); !done {
			t.Errorf("%s still runs after Stop", p.name)
		}
	}
	if _, err := os.Stat(n.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary dir %s left after Stop: %v", n.Dir, err)
	}
	if err := n.Stop(ctx); err != nil {
		t.Errorf("second Stop: %v", err)
	}
}

func TestStartWithoutTools(t *testing.T) {
	_, err := Start(t.Context(), Options{ToolsDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "run make setup-tools") {
		t.Fatalf("Start without binaries: %v, want an error saying to run make setup-tools", err)
	}
}
