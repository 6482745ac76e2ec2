package media

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the ingest and playback counters; register them with
// Service.Collectors.
type Metrics struct {
	bytesReceived prometheus.Counter
	stored        prometheus.Counter
	refused       *prometheus.CounterVec
	openFailures  prometheus.Counter
}

func newMetrics() *Metrics {
	return &Metrics{
		bytesReceived: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "framecast_segment_bytes_received_total",
			Help: "Sealed segment bytes received by uploads, including resumed and refused ones.",
		}),
		stored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "framecast_segments_stored_total",
			Help: "Sealed segments checked and stored.",
		}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "framecast_segments_refused_total",
			Help: "Completed uploads refused, by reason (checksum, seal).",
		}, []string{"reason"}),
		openFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "framecast_segment_open_failures_total",
			Help: "Stored segments that failed authentication or could not be read while serving.",
		}),
	}
}

// Collectors returns the service's metrics for registration.
func (s *Service) Collectors() []prometheus.Collector {
	m := s.metrics
	return []prometheus.Collector{m.bytesReceived, m.stored, m.refused, m.openFailures}
}
