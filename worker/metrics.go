package worker

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the worker's own Prometheus metrics; the transport's are
// rabbitmq.Metrics.
type Metrics struct {
	RecomputeSeconds prometheus.Histogram
}

// NewMetrics makes the metrics and registers them with reg, if not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		RecomputeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "runoff_tally_recompute_seconds",
			Help: "Time to recompute one election's results snapshot.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
	}
	if reg != nil {
		reg.MustRegister(m.RecomputeSeconds)
	}
	return m
}
