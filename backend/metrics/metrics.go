// Package metrics is the server's Prometheus metrics (github.com/prometheus/client_golang) on
// a registry of its own: RPCs by procedure and code with their latency, settlement lag, bytes
// served and received by the build store, job failures and announcement attempts, counted in
// this process; and, read from the database at every scrape (so every instance reports the
// same), purchases and payouts by status, payouts stuck with a payment in flight or unknown,
// the job queue by queue, kind and state, and announcement deliveries by status. Handler serves them for a separate, private listener.
package metrics

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"satchel.dev/backend/payouts"
	"satchel.dev/backend/postgres"
	"satchel.dev/shared/buildinfo"
)

// Metrics holds the server's collectors. A nil *Metrics records nothing, so code can call it
// unconditionally.
type Metrics struct {
	registry         *prometheus.Registry
	rpcRequests      *prometheus.CounterVec
	rpcDuration      *prometheus.HistogramVec
	settleLag        prometheus.Histogram
	blobBytes        *prometheus.CounterVec
	jobFailures      *prometheus.CounterVec
	announceAttempts *prometheus.CounterVec
	unaccounted      *prometheus.CounterVec
	reconcileErrors  prometheus.Counter
}

// New returns the server's metrics. stats reads the database's counts at scrape time (nil:
// none are reported); a scrape waits for it at most five seconds.
func New(stats func(context.Context) (postgres.Stats, error), log *slog.Logger) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		rpcRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "satchel_rpc_requests_total",
			Help: "RPCs handled, by procedure and Connect code (ok for success).",
		}, []string{"procedure", "code"}),
		rpcDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "satchel_rpc_duration_seconds",
			Help:    "How long RPCs took, by procedure and Connect code (streams: their whole life).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"procedure", "code"}),
		settleLag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "satchel_settlement_lag_seconds",
			Help:    "From an invoice's settlement at the Lightning node to its purchase recorded PAID.",
			Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 3600},
		}),
		blobBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "satchel_blob_bytes_total",
			Help: "Build bytes this server's local store sent (direction=download) and received (direction=upload) " +
				"through its signed URLs; with S3, bytes go to S3 directly and are not counted here.",
		}, []string{"direction"}),
		jobFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "satchel_job_failures_total",
			Help: "Job runs that failed with an error (River retries them), by kind, in this process.",
		}, []string{"kind"}),
		announceAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "satchel_announcement_attempts_total",
			Help: "Attempts to deliver an announcement to a relay, by relay and result (ok or failed).",
		}, []string{"relay", "result"}),
		unaccounted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "satchel_unaccounted_payments_total",
			Help: "Payments received that no sale accounts for (kind: underpaid, late, duplicate), recorded in the ledger " +
				"and listed by check-ledger as a refund due; any is worth an operator's look.",
		}, []string{"kind"}),
		reconcileErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "satchel_reconcile_errors_total",
			Help: "Pending purchases that could not be reconciled with their invoice (at start or at expiry); retried later.",
		}),
	}
	m.registry.MustRegister(m.unaccounted, m.reconcileErrors)
	for _, k := range []string{"underpaid", "late", "duplicate"} {
		m.unaccounted.WithLabelValues(k)
	}
	m.registry.MustRegister(m.rpcRequests, m.rpcDuration, m.settleLag, m.blobBytes, m.jobFailures, m.announceAttempts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), buildInfo())
	m.blobBytes.WithLabelValues("download")
	m.blobBytes.WithLabelValues("upload")
	if stats != nil {
		m.registry.MustRegister(&dbCollector{stats: stats, log: log})
	}
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// ObserveRPC counts one RPC of procedure that ended with code after d.
func (m *Metrics) ObserveRPC(procedure, code string, d time.Duration) {
	if m == nil {
		return
	}
	m.rpcRequests.WithLabelValues(procedure, code).Inc()
	m.rpcDuration.WithLabelValues(procedure, code).Observe(d.Seconds())
}

// ObserveSettlement records one purchase's settlement lag.
func (m *Metrics) ObserveSettlement(lag time.Duration) {
	if m == nil {
		return
	}
	m.settleLag.Observe(lag.Seconds())
}

// UnaccountedPayment counts a payment received that no sale accounts for, of a kind.
func (m *Metrics) UnaccountedPayment(kind string) {
	if m == nil {
		return
	}
	m.unaccounted.WithLabelValues(kind).Inc()
}

// ReconcileFailed counts a purchase that could not be reconciled with its invoice.
func (m *Metrics) ReconcileFailed() {
	if m == nil {
		return
	}
	m.reconcileErrors.Inc()
}

// JobKinds makes the job failures of these kinds show at zero before any fails.
func (m *Metrics) JobKinds(kinds ...string) {
	if m == nil {
		return
	}
	for _, k := range kinds {
		m.jobFailures.WithLabelValues(k)
	}
}

// JobFailed counts a failed job run of a kind.
func (m *Metrics) JobFailed(kind string) {
	if m == nil {
		return
	}
	m.jobFailures.WithLabelValues(kind).Inc()
}

// AnnouncementAttempt counts an attempt to deliver to a relay.
func (m *Metrics) AnnouncementAttempt(relay string, ok bool) {
	if m == nil {
		return
	}
	result := "failed"
	if ok {
		result = "ok"
	}
	m.announceAttempts.WithLabelValues(relay, result).Inc()
}

// CountBlobBytes wraps the local store's handler to count the bytes it sends (GET, download)
// and receives (PUT, upload).
func (m *Metrics) CountBlobBytes(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	down, up := m.blobBytes.WithLabelValues("download"), m.blobBytes.WithLabelValues("upload")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = &countingBody{ReadCloser: r.Body, c: up}
		}
		next.ServeHTTP(&countingWriter{ResponseWriter: w, c: down}, r)
	})
}

type countingBody struct {
	io.ReadCloser
	c prometheus.Counter
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.c.Add(float64(n))
	return n, err
}

type countingWriter struct {
	http.ResponseWriter
	c prometheus.Counter
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.c.Add(float64(n))
	return n, err
}

// ReadFrom keeps the underlying writer's ReadFrom (sendfile for files), counting what it copied.
func (w *countingWriter) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(w.ResponseWriter, r)
	w.c.Add(float64(n))
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// dbCollector reports the database's counts at each scrape.
type dbCollector struct {
	stats func(context.Context) (postgres.Stats, error)
	log   *slog.Logger
}

var (
	purchasesDesc = prometheus.NewDesc("satchel_purchases", "Purchases by status.", []string{"status"}, nil)
	payoutsDesc   = prometheus.NewDesc("satchel_payouts", "Payouts by status.", []string{"status"}, nil)
	payoutMsat    = prometheus.NewDesc("satchel_payouts_msat", "The amounts of payouts by status, in millisatoshi.", []string{"status"}, nil)
	jobsDesc      = prometheus.NewDesc("satchel_jobs", "Jobs in the queue by queue, kind and state: the depth is "+
		"available+scheduled+retryable+running; discarded ones failed for good.", []string{"queue", "kind", "state"}, nil)
	deliveriesDesc = prometheus.NewDesc("satchel_announcement_deliveries", "Announcement deliveries to relays by status.", []string{"status"}, nil)
	statsUpDesc    = prometheus.NewDesc("satchel_database_stats_up", "1 when the database answered this scrape's counts, else 0.", nil, nil)
)

// stuckDesc counts the payouts stuck with a payment in flight or unknown past the bound.
var stuckDesc = prometheus.NewDesc("satchel_payouts_stuck", "Payouts whose payment has been IN_FLIGHT or UNKNOWN for longer than "+
	payouts.DefaultStuckAfter.String()+", by that state: list them with `satchel-server admin stuck-payouts`.", []string{"state"}, nil)

// Purchase and payout statuses, reported even at zero so that rates and alerts see them.
var (
	purchaseStatuses = []string{"PENDING", "PAID", "EXPIRED", "FAILED", "REFUNDED"}
	payoutStatuses   = []string{"SCHEDULED", "RETRYING", "SENT", "FAILED", "CANCELED"}
	deliveryStatuses = []string{"PENDING", "SENT", "FAILED", "SKIPPED"}
	paymentStates    = []payouts.PaymentState{payouts.PaymentInFlight, payouts.PaymentUnknown}
)

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{purchasesDesc, payoutsDesc, payoutMsat, jobsDesc, deliveriesDesc, stuckDesc, statsUpDesc} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.stats(ctx)
	if err != nil {
		c.log.Warn("metrics: reading the database's counts", "err", err)
		ch <- prometheus.MustNewConstMetric(statsUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(statsUpDesc, prometheus.GaugeValue, 1)
	for _, st := range purchaseStatuses {
		ch <- prometheus.MustNewConstMetric(purchasesDesc, prometheus.GaugeValue, float64(s.Purchases[st]), st)
	}
	for _, st := range payoutStatuses {
		ch <- prometheus.MustNewConstMetric(payoutsDesc, prometheus.GaugeValue, float64(s.Payouts[st].Count), st)
		ch <- prometheus.MustNewConstMetric(payoutMsat, prometheus.GaugeValue, float64(s.Payouts[st].AmountMsat), st)
	}
	for _, st := range deliveryStatuses {
		ch <- prometheus.MustNewConstMetric(deliveriesDesc, prometheus.GaugeValue, float64(s.Deliveries[st]), st)
	}
	for _, st := range paymentStates {
		ch <- prometheus.MustNewConstMetric(stuckDesc, prometheus.GaugeValue, float64(s.StuckPayouts[string(st)]), string(st))
	}
	for _, j := range s.Jobs {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(j.Count), j.Queue, j.Kind, j.State)
	}
}

// buildInfo is the satchel_build_info gauge: always 1, its labels say which build is running.
func buildInfo() prometheus.Collector {
	b := buildinfo.Read()
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "satchel_build_info",
		Help:        "Always 1; its labels say which build of satchel-server is running.",
		ConstLabels: prometheus.Labels{"version": b.Version, "commit": b.Commit, "go_version": b.GoVersion},
	})
	g.Set(1)
	return g
}
