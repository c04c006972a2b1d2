package main

import (
	"context"
	"fmt"
	"io"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"connectrpc.com/connect"
)

// recorder keeps what the run measured: the fault windows, each operation's latency (split by
// whether a fault was under way while it ran), errors, and the timeline it prints. It is safe
// for concurrent use.
type recorder struct {
	began time.Time
	out   io.Writer

	mu      sync.Mutex
	windows []window
	lat     map[string][]latency
	errs    map[string]*[2]int // outside, inside a fault
	counts  map[string]int
}

// window is the time one fault was under way; to is zero while it is.
type window struct {
	kind     string
	from, to time.Time
}

type latency struct {
	d       time.Duration
	inFault bool
}

func newRecorder(out io.Writer) *recorder {
	return &recorder{began: time.Now(), out: out, lat: map[string][]latency{}, errs: map[string]*[2]int{}, counts: map[string]int{}}
}

// logf prints a line of the timeline, stamped with the time since the start.
func (r *recorder) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(r.out, "[%7.1fs] %s\n", time.Since(r.began).Seconds(), fmt.Sprintf(format, args...))
}

// fault opens a fault window of kind and returns the function that closes it.
func (r *recorder) fault(kind, what string) (end func()) {
	r.mu.Lock()
	r.windows = append(r.windows, window{kind: kind, from: time.Now()})
	i := len(r.windows) - 1
	r.mu.Unlock()
	r.logf("fault %s: %s", kind, what)
	return func() {
		r.mu.Lock()
		r.windows[i].to = time.Now()
		d := r.windows[i].to.Sub(r.windows[i].from)
		r.mu.Unlock()
		r.logf("fault %s over after %v", kind, d.Round(100*time.Millisecond))
	}
}

// faulted reports whether a fault was under way at any moment between from and to.
func (r *recorder) faulted(from, to time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range r.windows {
		if !w.from.After(to) && (w.to.IsZero() || !w.to.Before(from)) {
			return true
		}
	}
	return false
}

// observe records one operation named name that began at began and ended now with err.
func (r *recorder) observe(name string, began time.Time, err error) {
	now := time.Now()
	in := r.faulted(began, now)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		e := r.errs[name]
		if e == nil {
			e = &[2]int{}
			r.errs[name] = e
		}
		e[btoi(in)]++
		return
	}
	r.lat[name] = append(r.lat[name], latency{d: now.Sub(began), inFault: in})
}

// count adds one to the counter name.
func (r *recorder) count(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts[name]++
}

func (r *recorder) counter(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts[name]
}

// interceptor times every unary call of the API, by procedure.
func (r *recorder) interceptor() connect.Interceptor {
	return connect.UnaryInterceptorFunc(func(next connect.UnaryFunc) connect.UnaryFunc {
		return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
			began := time.Now()
			res, err := next(ctx, req)
			r.observe("rpc "+path.Base(req.Spec().Procedure), began, err)
			return res, err
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// check is one verdict of the run.
type check struct {
	name   string
	ok     bool
	detail string
}

// report writes the tables: faults, latencies, instances' goroutines and memory, checks.
func (r *recorder) report(w io.Writer, instances []*instance, checks []check) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(w, "\nfaults (%d windows)\n", len(r.windows))
	byKind := map[string][]time.Duration{}
	for _, win := range r.windows {
		to := win.to
		if to.IsZero() {
			to = time.Now()
		}
		byKind[win.kind] = append(byKind[win.kind], to.Sub(win.from))
	}
	fmt.Fprintf(w, "| %-16s | %5s | %10s |\n|%s|%s|%s|\n", "fault", "times", "total", strings.Repeat("-", 18), strings.Repeat("-", 7), strings.Repeat("-", 12))
	for _, k := range sortedKeys(byKind) {
		var total time.Duration
		for _, d := range byKind[k] {
			total += d
		}
		fmt.Fprintf(w, "| %-16s | %5d | %10v |\n", k, len(byKind[k]), total.Round(100*time.Millisecond))
	}

	fmt.Fprintf(w, "\nlatency: outside faults | during faults (n, p50, p99; errors)\n")
	fmt.Fprintf(w, "| %-34s | %6s %8s %8s %4s | %6s %8s %8s %4s |\n", "operation", "n", "p50", "p99", "err", "n", "p50", "p99", "err")
	fmt.Fprintf(w, "|%s|%s|%s|\n", strings.Repeat("-", 36), strings.Repeat("-", 31), strings.Repeat("-", 31))
	names := sortedKeys(r.lat)
	for n := range r.errs {
		if _, ok := r.lat[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		var parts [2][]time.Duration
		for _, l := range r.lat[name] {
			parts[btoi(l.inFault)] = append(parts[btoi(l.inFault)], l.d)
		}
		errs := [2]int{}
		if e := r.errs[name]; e != nil {
			errs = *e
		}
		fmt.Fprintf(w, "| %-34s | %s %4d | %s %4d |\n", name, quantiles(parts[0]), errs[0], quantiles(parts[1]), errs[1])
	}

	fmt.Fprintf(w, "\ninstances: goroutines and resident memory, sampled from /metrics (first → last sample of each process)\n")
	fmt.Fprintf(w, "| %-8s | %-5s | %-40s | %-40s |\n", "instance", "lives", "goroutines", "RSS MiB")
	fmt.Fprintf(w, "|%s|%s|%s|%s|\n", strings.Repeat("-", 10), strings.Repeat("-", 7), strings.Repeat("-", 42), strings.Repeat("-", 42))
	for _, in := range instances {
		lives := in.allLives()
		var g, m []string
		for _, l := range lives {
			first, last := l[0], l[len(l)-1]
			g = append(g, fmt.Sprintf("%.0f→%.0f", first.goroutines, last.goroutines))
			m = append(m, fmt.Sprintf("%.0f→%.0f", first.rssBytes/(1<<20), last.rssBytes/(1<<20)))
		}
		fmt.Fprintf(w, "| %-8d | %-5d | %-40s | %-40s |\n", in.n, len(lives), clip(strings.Join(g, " "), 40), clip(strings.Join(m, " "), 40))
	}

	fmt.Fprintf(w, "\ncounts: ")
	for i, k := range sortedKeys(r.counts) {
		if i > 0 {
			fmt.Fprint(w, ", ")
		}
		fmt.Fprintf(w, "%s %d", k, r.counts[k])
	}
	fmt.Fprintf(w, "\n\nchecks\n")
	for _, c := range checks {
		verdict := "ok  "
		if !c.ok {
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "  %s %s: %s\n", verdict, c.name, c.detail)
	}
}

// quantiles formats the count, p50 and p99 of ds.
func quantiles(ds []time.Duration) string {
	if len(ds) == 0 {
		return fmt.Sprintf("%6d %8s %8s", 0, "-", "-")
	}
	slices.Sort(ds)
	q := func(p float64) time.Duration { return ds[min(len(ds)-1, int(p*float64(len(ds))))] }
	return fmt.Sprintf("%6d %8s %8s", len(ds), short(q(0.5)), short(q(0.99)))
}

// short formats a duration in ms below 10 s, else in s.
func short(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
