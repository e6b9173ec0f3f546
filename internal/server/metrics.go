package server

import (
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is Plugboard's Prometheus registry.
type Metrics struct {
	registry   *prometheus.Registry
	operations *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	http       *prometheus.CounterVec
	inFlight   *prometheus.GaugeVec
	inbound    *prometheus.CounterVec
}

// NewMetrics returns a registry with the process and Go runtime collectors and Plugboard's
// request metrics. Other parts add theirs with Register.
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plugboard_graphql_operations_total",
			Help: "GraphQL operations by operation (type and first root field) and outcome (ok or error code).",
		}, []string{"operation", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plugboard_graphql_operation_duration_seconds",
			Help:    "Latency of GraphQL operations by operation and outcome.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation", "outcome"}),
		http: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plugboard_http_requests_total",
			Help: "HTTP requests by route and status code.",
		}, []string{"route", "code"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "plugboard_http_requests_in_flight",
			Help: "HTTP requests being served by route: reading their body, waiting for a turn or executing.",
		}, []string{"route"}),
		inbound: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plugboard_inbound_refusals_total",
			Help: "Requests refused by the per-caller rate limit (PLUGBOARD_RATE_LIMIT), by kind of caller (key or jwt); never by caller id, which would not bound the series.",
		}, []string{"caller"}),
	}
	m.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.operations, m.latency, m.http, m.inFlight, m.inbound)
	return m
}

// Register adds a collector (database pool statistics, outbound call counters).
func (m *Metrics) Register(c prometheus.Collector) { m.registry.MustRegister(c) }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

func (m *Metrics) observeOperation(op, outcome string, d time.Duration) {
	m.operations.WithLabelValues(op, outcome).Inc()
	m.latency.WithLabelValues(op, outcome).Observe(d.Seconds())
}

func (m *Metrics) inboundRefused(caller string) {
	if caller != "key" && caller != "jwt" {
		caller = "other"
	}
	m.inbound.WithLabelValues(caller).Inc()
}

func (m *Metrics) observeHTTP(route string, status int) {
	m.http.WithLabelValues(route, strconv.Itoa(status)).Inc()
}

// OutboundStats reports outbound call counters.
type OutboundStats interface {
	Stats() (ok, failed, tokenFetches int64)
	// Collectors are the attempt, retry and budget metrics.
	Collectors() []prometheus.Collector
}

// RegisterRuntime adds the database pool statistics and the outbound call counters.
func (m *Metrics) RegisterRuntime(db *sql.DB, outbound OutboundStats) {
	m.Register(collectors.NewDBStatsCollector(db, "plugboard"))
	for _, c := range outbound.Collectors() {
		m.Register(c)
	}
	calls := func(outcome string, pick func(ok, failed int64) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "plugboard_outbound_calls_total",
			Help:        "Outbound action calls by outcome (ok: a 2xx answer).",
			ConstLabels: prometheus.Labels{"outcome": outcome},
		}, func() float64 { ok, failed, _ := outbound.Stats(); return float64(pick(ok, failed)) })
	}
	m.Register(calls("ok", func(ok, _ int64) int64 { return ok }))
	m.Register(calls("failed", func(_, failed int64) int64 { return failed }))
	m.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "plugboard_oauth_token_fetches_total", Help: "Access tokens fetched from OAuth2 token URLs.",
	}, func() float64 { _, _, n := outbound.Stats(); return float64(n) }))
}
