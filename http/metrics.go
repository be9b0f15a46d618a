package http

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus metrics of the API. A nil *Metrics records
// nothing.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	errors   *prometheus.CounterVec
}

// NewMetrics creates the API's metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portrait_http_requests_total", Help: "HTTP requests answered, by route and status.",
		}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "portrait_http_request_duration_seconds", Help: "Time to answer HTTP requests, by route.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portrait_errors_total", Help: "Error answers, by error code.",
		}, []string{"code"}),
	}
	reg.MustRegister(m.requests, m.duration, m.errors)
	return m
}

// observe records one answered request. route is the matched pattern, so
// the label set stays bounded whatever paths clients ask for.
func (m *Metrics) observe(route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

// errorCode records one error answer.
func (m *Metrics) errorCode(code string) {
	if m != nil {
		m.errors.WithLabelValues(code).Inc()
	}
}
