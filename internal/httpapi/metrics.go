package httpapi

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lawtutor/socratic/internal/session"
	"github.com/lawtutor/socratic/internal/tutor"
)

type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	handler  http.Handler
}

func newMetrics() *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "socratic_http_requests_total",
			Help: "HTTP requests answered, by method, route and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "socratic_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route"}),
	}
	classifierFailures := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "socratic_moderation_classifier_failures_total",
		Help: "Tutor turns the moderation classifier could not clear (failed, late or unreadable verdicts); each got the redirect.",
	}, func() float64 { return float64(tutor.ModerationFailures()) })
	reg.MustRegister(m.requests, m.duration, classifierFailures,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	return m
}

// watchSessions exports the session service's refusals and the model's
// load, read at each scrape.
func (m *metrics) watchSessions(svc *session.Service) {
	refused := func(name, help string, f func(session.ModelStats) int64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f(svc.Load())) })
	}
	m.registry.MustRegister(
		refused("socratic_turns_refused_rate_total", "Student messages refused for coming faster than SESSION_MIN_TURN_INTERVAL_SECONDS.",
			func(s session.ModelStats) int64 { return s.RefusedPace }),
		refused("socratic_turns_refused_max_turns_total", "Student messages refused past a session's SESSION_MAX_TURNS.",
			func(s session.ModelStats) int64 { return s.RefusedTurns }),
		refused("socratic_turns_refused_budget_total", "Student messages and starts refused past STUDENT_DAILY_TOKEN_BUDGET.",
			func(s session.ModelStats) int64 { return s.RefusedBudget }),
		refused("socratic_llm_calls_refused_busy_total", "Model calls refused because LLM_MAX_CONCURRENT were running.",
			func(s session.ModelStats) int64 { return s.RefusedBusy }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "socratic_llm_calls_in_flight", Help: "Model calls running now (a turn's answer and moderation check count once)."},
			func() float64 { return float64(svc.Load().CallsInFlight) }),
	)
}

// BackupStatus is what /metrics reports of scheduled backups.
type BackupStatus interface {
	// Age is how old the newest backup is (with none yet, how long the
	// schedule has run without one).
	Age(now time.Time) time.Duration
	// Failures counts scheduled backups that failed since start.
	Failures() int64
}

// watchBackups exports the backup schedule, read at each scrape: alert
// when the age passes twice BACKUP_INTERVAL.
func (m *metrics) watchBackups(b BackupStatus) {
	m.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "socratic_backup_age_seconds",
			Help: "Seconds since the newest complete scheduled backup began (with none yet, since the schedule started)."},
			func() float64 { return b.Age(time.Now()).Seconds() }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "socratic_backup_failures_total",
			Help: "Scheduled backups that failed since the server started."},
			func() float64 { return float64(b.Failures()) }),
	)
}

func (m *metrics) observe(method, route string, status int, elapsed time.Duration) {
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(elapsed.Seconds())
}

// metricsAllowed: the scrape endpoint is for the machine itself (see
// reqInfo.local), or for a collector that presents METRICS_TOKEN.
func (s *Server) metricsAllowed(ri *reqInfo, authorization string) bool {
	if ri.local {
		return true
	}
	tok, ok := bearerToken(authorization)
	return ok && s.cfg.MetricsToken != "" &&
		subtle.ConstantTimeCompare([]byte(tok), []byte(s.cfg.MetricsToken)) == 1
}
