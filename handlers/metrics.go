package handlers

import (
	"crypto/subtle"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the web's own Prometheus metrics; the publisher's are in
// package worker.
type Metrics struct {
	Responses   *prometheus.CounterVec // method, code
	Unavailable prometheus.Counter     // 503s: writes refused because the broker did not confirm
}

// NewMetrics makes the metrics and registers them with reg, if not nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Responses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "runoff_http_responses_total",
			Help: "HTTP responses, by method and status code."}, []string{"method", "code"}),
		Unavailable: prometheus.NewCounter(prometheus.CounterOpts{Name: "runoff_http_unavailable_total",
			Help: "Requests answered 503 because a backend could not accept them."}),
	}
	if reg != nil {
		reg.MustRegister(m.Responses, m.Unavailable)
	}
	return m
}

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (m *Metrics) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.code == 0 {
			rec.code = http.StatusOK
		}
		m.Responses.WithLabelValues(r.Method, strconv.Itoa(rec.code)).Inc()
		if rec.code == http.StatusServiceUnavailable {
			m.Unavailable.Inc()
		}
	})
}

// RequireToken guards a handler (/metrics) with a bearer token, when one
// is configured.
func RequireToken(token string, next http.Handler) http.Handler {
	if token == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+token)) != 1 {
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "metrics need a token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}
