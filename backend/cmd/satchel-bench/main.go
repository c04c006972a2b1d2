// Command satchel-bench measures Satchel against baselines taken in the same run, on the same
// machine, and prints ratios (`make bench` runs it). It starts a private PostgreSQL cluster and
// satchel-server on it with the demo catalog, then measures:
//
//   - the store's read path: GetGame and ListGames driven by wrk over loopback (accepting
//     gzip as browsers and the launcher do, and ListGames once more without), beside
//     pgbench -S (select-only) transactions/s on the same cluster, with one client thread and
//     with two (the faster is the baseline); wrk runs one thread, so that the load tool does
//     not take both cores from the server it measures;
//   - builds: a 1 GiB upload and download through the server, beside curl moving the same
//     file to and from a plain static file server, and the server's peak memory meanwhile;
//   - buying: purchases created and settled per second through the API with the dev provider,
//     beside pgbench's TPC-B-like transactions/s, and the time from a settlement to its event
//     on a WatchLibrary stream;
//   - instances: purchases per second with a second satchel-server on the same database, the
//     bench's clients going round-robin between the two while others read the catalog, beside
//     the same load on one instance; then check-ledger.
//
// -stages picks some; every stage, and every wait in it, is bounded by a timeout that names it.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"satchel.dev/backend/pgcluster"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "satchel-bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	duration := flag.Duration("duration", 10*time.Second, "length of each load run")
	conns := flag.Int("connections", 32, "concurrent connections of wrk and pgbench")
	wrkThreads := flag.Int("wrk-threads", 1, "wrk's threads in the reads stage: one leaves the server a core of the two (the floor rows show wrk can still load it)")
	stageList := flag.String("stages", "reads,builds,buying,instances", "the stages to run, comma-separated: reads, builds, buying, instances")
	flag.Parse()
	if *wrkThreads < 1 || *wrkThreads > *conns {
		return fmt.Errorf("-wrk-threads %d: use 1 to -connections (%d)", *wrkThreads, *conns)
	}
	stages := map[string]bool{}
	for _, st := range strings.Split(*stageList, ",") {
		switch st = strings.TrimSpace(st); st {
		case "reads", "builds", "buying", "instances":
			stages[st] = true
		default:
			return fmt.Errorf("-stages: unknown stage %q: use reads, builds, buying or instances", st)
		}
	}

	tmp, err := os.MkdirTemp("", "satchel-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: filepath.Join(tmp, "pg"), Throwaway: true, Logger: log})
	if err != nil {
		return err
	}
	defer cluster.Stop(context.WithoutCancel(ctx))
	for _, db := range []string{"satchel", "pgbench"} {
		if err := cluster.CreateDatabase(ctx, db, ""); err != nil {
			return err
		}
	}

	// Instances on one database share its secret, kept in a file as an operator would.
	secretFile := filepath.Join(tmp, "secret")
	if err := os.WriteFile(secretFile, []byte(hex.EncodeToString(bytes.Repeat([]byte{0x5a}, 32))+"\n"), 0o600); err != nil {
		return err
	}
	srv, err := startServer(ctx, cluster.DSN("satchel"), filepath.Join(tmp, "server"), secretFile, "--demo")
	if err != nil {
		return err
	}
	defer srv.stop()

	if err := pgbenchInit(ctx, cluster); err != nil {
		return err
	}
	fmt.Printf("load: %d connections, wrk threads: %d, %s per run, 2 cores shared by the load tool, the server and PostgreSQL\n\n", *conns, *wrkThreads, *duration)
	if stages["reads"] {
		if err := within(ctx, "reads", 7**duration+2*time.Minute, func(ctx context.Context) error { // seven load runs
			return benchReads(ctx, cluster, srv, tmp, load{*conns, *wrkThreads}, *duration)
		}); err != nil {
			return err
		}
		fmt.Println()
	}
	if stages["builds"] {
		if err := within(ctx, "builds", 10*time.Minute, func(ctx context.Context) error {
			return benchBuilds(ctx, srv, tmp)
		}); err != nil {
			return err
		}
		fmt.Println()
	}
	if stages["buying"] {
		if err := within(ctx, "buying", 3**duration+5*time.Minute, func(ctx context.Context) error {
			return benchBuying(ctx, srv, cluster, *conns, *duration)
		}); err != nil {
			return err
		}
		fmt.Println()
	}
	if stages["instances"] {
		if err := within(ctx, "two instances", 2**duration+5*time.Minute, func(ctx context.Context) error {
			second, err := startServer(ctx, cluster.DSN("satchel"), filepath.Join(tmp, "server2"), secretFile)
			if err != nil {
				return err
			}
			defer second.stop()
			return benchInstances(ctx, srv, second, cluster.DSN("satchel"), *conns, *duration)
		}); err != nil {
			return err
		}
	}
	return nil
}

// within runs the stage f with a context that ends after limit, so that no stage waits
// forever. Its error names the stage, and says so when the stage ran out of time.
func within(ctx context.Context, stage string, limit time.Duration, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	err := f(ctx)
	switch {
	case err == nil:
		return nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%s: not done within %v: %w", stage, limit, err)
	}
	return fmt.Errorf("%s: %w", stage, err)
}

// benchReads measures GetGame and ListGames with wrk beside pgbench -S on the same cluster, and
// the server's CPU time per request (which other work on the machine changes less than rates).
// The calls accept gzip as browsers and Connect clients do; ListGames is measured once more
// without, as a client that asks for no compression gets it. wrk drives every call with l;
// pgbench runs with l's connections on one thread and on two, and the baseline is the faster.
func benchReads(ctx context.Context, cluster *pgcluster.Cluster, srv *server, tmp string, l load, d time.Duration) error {
	fmt.Printf("%-34s %12s %10s %18s %16s\n", "", "req/s", "p99", "ratio to pgbench", "server CPU/req")
	var pgTPS float64
	for _, threads := range []int{1, 2} {
		tps, p99, err := pgbench(ctx, cluster, tmp, load{l.conns, threads}, d)
		if err != nil {
			return err
		}
		pgTPS = max(pgTPS, tps)
		fmt.Printf("%-34s %12.0f %10s %18s %16s\n", fmt.Sprintf("pgbench -S -j%d (tx/s)", threads), tps, p99.Round(10*time.Microsecond), "", "-")
	}
	fmt.Printf("%-34s %12.0f %10s %18s %16s\n", "baseline: the faster pgbench -S", pgTPS, "", "1.00", "-")
	for _, f := range []struct{ name, procedure, body string }{
		{"net/http, GetGame's bytes (floor)", "satchel.catalog.v1.CatalogService/GetGame", `{"slug":"lantern-drift"}`},
		{"net/http, ListGames' bytes (floor)", "satchel.catalog.v1.CatalogService/ListGames", `{}`},
	} {
		floor, err := fixedAnswer(ctx, srv.url+"/"+f.procedure, f.body)
		if err != nil {
			return err
		}
		before, err := cpuTime(os.Getpid())
		if err != nil {
			return err
		}
		rps, p99, err := wrk(ctx, tmp, floor.URL, f.body, true, l, d)
		floor.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		after, err := cpuTime(os.Getpid())
		if err != nil {
			return err
		}
		fmt.Printf("%-34s %12.0f %10s %18.2f %16s\n", f.name, rps, p99, rps/pgTPS,
			((after - before) / time.Duration(rps*d.Seconds())).Round(100*time.Nanosecond))
	}
	for _, c := range []struct {
		name, procedure, body string
		gzip                  bool
	}{
		{"GetGame", "satchel.catalog.v1.CatalogService/GetGame", `{"slug":"lantern-drift"}`, true},
		{"ListGames (first page)", "satchel.catalog.v1.CatalogService/ListGames", `{}`, true},
		{"ListGames, uncompressed", "satchel.catalog.v1.CatalogService/ListGames", `{}`, false},
	} {
		before, err := cpuTime(srv.cmd.Process.Pid)
		if err != nil {
			return err
		}
		rps, p99, err := wrk(ctx, tmp, srv.url+"/"+c.procedure, c.body, c.gzip, l, d)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		after, err := cpuTime(srv.cmd.Process.Pid)
		if err != nil {
			return err
		}
		perRequest := (after - before) / time.Duration(rps*d.Seconds())
		fmt.Printf("%-34s %12.0f %10s %18.2f %16s\n", c.name, rps, p99, rps/pgTPS, perRequest.Round(100*time.Nanosecond))
	}
	return nil
}

// load is how a load tool drives its target: conns connections (or clients) over threads threads.
type load struct{ conns, threads int }

// fixedAnswer posts body in JSON to url once, accepting gzip, and serves what it answered
// (status 200, its Content-Type, Content-Encoding and body) to every request, from a bare
// net/http server in this process: the least a Go server can do per request, the floor under
// the catalog's figures.
func fixedAnswer(ctx context.Context, url, body string) (*fixedServer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	answer, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, res.Status)
	}
	contentType, encoding, length := res.Header.Get("Content-Type"), res.Header.Get("Content-Encoding"), strconv.Itoa(len(answer))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Content-Encoding", encoding)
		w.Header().Set("Content-Length", length)
		_, _ = w.Write(answer)
	})}
	go srv.Serve(ln)
	return &fixedServer{Server: srv, URL: "http://" + ln.Addr().String() + "/"}, nil
}

// fixedServer is fixedAnswer's server, at URL.
type fixedServer struct {
	*http.Server
	URL string
}

// cpuTime reads the CPU time a process has used, user and system, from /proc/PID/stat (in
// clock ticks of 10 ms, Linux's USER_HZ).
func cpuTime(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The fields after the command, which is in parentheses and may hold spaces: utime and
	// stime are the 12th and 13th (the 14th and 15th of the line).
	_, rest, _ := strings.Cut(string(raw), ") ")
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %q", pid, raw)
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// server is the satchel-server under measure.
type server struct {
	url string
	cmd *exec.Cmd
}

func (s *server) stop() { _ = s.cmd.Process.Signal(syscall.SIGTERM); _ = s.cmd.Wait() }

// startServer runs satchel-server (next to this binary) on dsn, its data in dataDir, with the
// secret in secretFile, no purchase rate limit to speak of, and args (--demo: load the demo
// catalog).
func startServer(ctx context.Context, dsn, dataDir, secretFile string, args ...string) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(filepath.Dir(self), "satchel-server"), append([]string{"serve",
		"--listen", "127.0.0.1:0", "--data-dir", dataDir, "--secret-file", secretFile, "--purchase-rate", "1000000"}, args...)...)
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dsn, "SATCHEL_LOG_FORMAT=json")
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting satchel-server (build it with make build): %w", err)
	}
	s := &server{cmd: cmd}
	serving := make(chan string, 1)
	go func() {
		defer close(serving)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "serving on "); ok {
				u, _, _ := strings.Cut(rest, " ")
				serving <- u
			}
		}
	}()
	const limit = 2 * time.Minute // the demo catalog's builds are made and uploaded first
	select {
	case u, ok := <-serving:
		if ok {
			s.url = u
			return s, nil
		}
		s.stop()
		return nil, errors.New("satchel-server exited before serving")
	case <-time.After(limit):
		s.stop()
		return nil, fmt.Errorf("starting satchel-server: not serving after %v", limit)
	}
}

var (
	rpsLine = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	p99Line = regexp.MustCompile(`\s99%\s+(\S+)`)
	tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
)

// wrk posts body to url for d and returns requests/s and the p99 latency as wrk prints it.
// With gzip the requests accept a gzipped answer, as browsers and Connect clients (the
// launcher's) ask.
func wrk(ctx context.Context, dir, url, body string, gzip bool, l load, d time.Duration) (float64, string, error) {
	script := filepath.Join(dir, "post.lua")
	lua := fmt.Sprintf("wrk.method = \"POST\"\nwrk.body = %q\nwrk.headers[\"Content-Type\"] = \"application/json\"\n", body)
	if gzip {
		lua += "wrk.headers[\"Accept-Encoding\"] = \"gzip\"\n"
	}
	if err := os.WriteFile(script, []byte(lua), 0o600); err != nil {
		return 0, "", err
	}
	out, err := exec.CommandContext(ctx, "wrk", "-t"+strconv.Itoa(l.threads), "-c"+strconv.Itoa(l.conns), "-d"+d.String(), "--latency", "-s", script, url).CombinedOutput()
	if err != nil {
		return 0, "", fmt.Errorf("wrk: %w\n%s", err, out)
	}
	if strings.Contains(string(out), "Non-2xx") {
		return 0, "", fmt.Errorf("wrk saw errors:\n%s", out)
	}
	rps, p99 := rpsLine.FindSubmatch(out), p99Line.FindSubmatch(out)
	if rps == nil || p99 == nil {
		return 0, "", fmt.Errorf("cannot read wrk's output:\n%s", out)
	}
	v, err := strconv.ParseFloat(string(rps[1]), 64)
	return v, string(p99[1]), err
}

// pgbenchInit fills the cluster's pgbench database (scale 10) for the pgbench baselines.
func pgbenchInit(ctx context.Context, c *pgcluster.Cluster) error {
	out, err := exec.CommandContext(ctx, filepath.Join(c.BinDir(), "pgbench"), "-i", "-q", "-s", "10",
		"-h", c.SocketDir(), "-p", strconv.Itoa(c.Port()), "-U", "postgres", "pgbench").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgbench -i: %w\n%s", err, out)
	}
	return nil
}

// pgbench runs pgbench's select-only workload on the cluster and returns its transactions/s
// and the p99 latency of a tenth of its transactions, from the log it writes in dir.
func pgbench(ctx context.Context, c *pgcluster.Cluster, dir string, l load, d time.Duration) (float64, time.Duration, error) {
	bin := filepath.Join(c.BinDir(), "pgbench")
	logs := filepath.Join(dir, "pgbench-S")
	common := []string{"-h", c.SocketDir(), "-p", strconv.Itoa(c.Port()), "-U", "postgres"}
	args := append([]string{"-S", "-c", strconv.Itoa(l.conns), "-j", strconv.Itoa(l.threads), "-T", strconv.Itoa(int(d.Seconds())),
		"-l", "--sampling-rate=0.1", "--log-prefix=" + logs}, common...)
	out, err := exec.CommandContext(ctx, bin, append(args, "pgbench")...).CombinedOutput()
	if err != nil {
		return 0, 0, fmt.Errorf("pgbench -S: %w\n%s", err, out)
	}
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, 0, fmt.Errorf("cannot read pgbench's output:\n%s", out)
	}
	tps, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		return 0, 0, err
	}
	p99, err := loggedP99(logs + ".*")
	return tps, p99, err
}

// loggedP99 returns the p99 of the latencies in pgbench's transaction logs matching pattern
// (the third field of each line, in microseconds), and removes the logs.
func loggedP99(pattern string) (time.Duration, error) {
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		return 0, fmt.Errorf("pgbench wrote no transaction log (%s): %v", pattern, err)
	}
	var lat []int64
	for _, f := range files {
		b, err := os.ReadFile(f)
		os.Remove(f)
		if err != nil {
			return 0, err
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			fields := strings.Fields(line)
			if len(fields) < 3 {
				continue
			}
			if us, err := strconv.ParseInt(fields[2], 10, 64); err == nil {
				lat = append(lat, us)
			}
		}
	}
	if len(lat) == 0 {
		return 0, fmt.Errorf("pgbench's transaction logs (%s) are empty", pattern)
	}
	slices.Sort(lat)
	return time.Duration(lat[len(lat)*99/100]) * time.Microsecond, nil
}
