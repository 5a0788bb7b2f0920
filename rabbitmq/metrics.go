package rabbitmq

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the publisher's and the consumer's Prometheus metrics. Each
// process registers its own on its own registry.
type Metrics struct {
	Published     *prometheus.CounterVec // key: publish attempts
	Confirmed     *prometheus.CounterVec // key: confirmed by the broker
	PublishFailed *prometheus.CounterVec // key, reason: nacked, returned, timeout, unavailable
	Consumed      *prometheus.CounterVec // queue
	Redelivered   *prometheus.CounterVec // queue
	DeadLettered  *prometheus.CounterVec // queue
	BatchSize     *prometheus.HistogramVec
	CommitSeconds *prometheus.HistogramVec
	BatchRetries  *prometheus.CounterVec
	BundleParts   *prometheus.HistogramVec // key: messages per broker message the publisher sent
}

// NewMetrics makes the metrics and registers them with reg, if not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Published: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "runoff_published_total",
			Help: "Messages the web tried to publish, by routing key."}, []string{"key"}),
		Confirmed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "runoff_publish_confirmed_total",
			Help: "Messages the broker confirmed, by routing key."}, []string{"key"}),
		PublishFailed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "runoff_publish_failed_total",
			Help: "Publishes that failed, by routing key and reason (nacked, returned, timeout, unavailable)."}, []string{"key", "reason"}),
		Consumed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "runoff_consumed_total",
			Help: "Messages the worker carried out and acked (each message of a bundle counts), by queue."}, []string{"queue"}),
		Redelivered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "runoff_redelivered_total",
			Help: "Messages that arrived marked as redelivered, by queue."}, []string{"queue"}),
		DeadLettered: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "runoff_dead_lettered_total",
			Help: "Messages sent to the dead-letter queue, by queue."}, []string{"queue"}),
		BatchSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "runoff_batch_size",
			Help: "Messages per batch (each message of a bundle counts), by queue.", Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500}}, []string{"queue"}),
		CommitSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "runoff_batch_commit_seconds",
			Help: "Time to store a batch in Postgres, by queue.", Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}, []string{"queue"}),
		BatchRetries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "runoff_batch_retries_total",
			Help: "Batches retried after a transient failure, by queue."}, []string{"queue"}),
		BundleParts: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "runoff_publish_bundle_parts",
			Help:    "Messages carried by each broker message the publisher sent for a bundled key, by routing key.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128}}, []string{"key"}),
	}
	if reg != nil {
		reg.MustRegister(m.Published, m.Confirmed, m.PublishFailed, m.Consumed, m.Redelivered, m.DeadLettered,
			m.BatchSize, m.CommitSeconds, m.BatchRetries, m.BundleParts)
	}
	return m
}
