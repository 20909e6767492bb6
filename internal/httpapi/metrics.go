package httpapi

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lawtutor/socratic/internal/jobs"
	"github.com/lawtutor/socratic/internal/llm"
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
		Help: "Tutor turns the moderation classifier could not clear (failed, late or unreadable verdicts); each got the fixed reply asking the student to say it again.",
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

// watchOperations exports what operators ask of a running server, each
// read at scrape time: the database's figures by one short query each,
// the rest from counters the packages keep in memory. Every label comes
// from a closed list (providers, kinds, layers, categories, states).
func (m *metrics) watchOperations(s *Server) {
	m.registry.MustRegister(&opsCollector{s: s})
}

var (
	descSessionsActive = prometheus.NewDesc("socratic_sessions_active",
		"Tutoring sessions open now (started, not ended).", nil, nil)
	descTurns = prometheus.NewDesc("socratic_turns_answered_total",
		"Tutor answers stored since the server started (a turn the model failed on is not one).", nil, nil)
	descLLMCalls = prometheus.NewDesc("socratic_llm_calls_total",
		"Model calls finished (answered or failed) since the server started, by provider.", []string{"provider"}, nil)
	descLLMTokens = prometheus.NewDesc("socratic_llm_tokens_total",
		"Model tokens since the server started, by provider and type: input (uncached), output, cache_read, cache_write.", []string{"provider", "type"}, nil)
	descLLMErrors = prometheus.NewDesc("socratic_llm_errors_total",
		"Model calls that failed since the server started, by provider and kind: busy, timeout, canceled, rate_limited, overloaded, unavailable, unauthorized, rejected, network, broken.", []string{"provider", "kind"}, nil)
	descVerdicts = prometheus.NewDesc("socratic_moderation_verdicts_total",
		"Tutor answers by moderation verdict since the server started: the layer that flagged the turn (rules, model, classifier, output; none when nothing did) and each category it named.", []string{"layer", "category"}, nil)
	descJobs = prometheus.NewDesc("socratic_jobs",
		"Background jobs in the queue now, by kind and state (available and retryable wait to run; discarded failed for good).", []string{"kind", "state"}, nil)
	descJobOldest = prometheus.NewDesc("socratic_jobs_oldest_waiting_seconds",
		"How long the oldest job that could run now has waited (0 when none waits).", nil, nil)
	descJobFailures = prometheus.NewDesc("socratic_job_failures_total",
		"Job attempts that failed (an error or a crash of the job) since the server started, by kind; a failed attempt is retried up to 5 times.", []string{"kind"}, nil)
	descDocuments = prometheus.NewDesc("socratic_documents",
		"Uploaded documents by status: queued, processing, processed, failed.", []string{"status"}, nil)
	descWriteWaits = prometheus.NewDesc("socratic_sqlite_write_waits_total",
		"Writes that queued for SQLite's one write connection since the server started: batched (turns and other small writes) or pool (every other write transaction).", []string{"path"}, nil)
	descWriteWait = prometheus.NewDesc("socratic_sqlite_write_wait_seconds_total",
		"Time writes spent queued for SQLite's one write connection since the server started; divide by socratic_sqlite_write_waits_total for the mean.", []string{"path"}, nil)
	descBusy = prometheus.NewDesc("socratic_sqlite_busy_total",
		"Batched write transactions that failed because another process held the database past busy_timeout (5 s).", nil, nil)
	descPDFRunning = prometheus.NewDesc("socratic_pdfium_running",
		"1 while PDFium runs (there are PDFs to read, or were within PDF_IDLE_TIMEOUT), 0 when it is stopped.", nil, nil)
	descPDFBusy = prometheus.NewDesc("socratic_pdfium_busy",
		"Callers holding or waiting for a PDFium sandbox now.", nil, nil)
	descPDFStarts = prometheus.NewDesc("socratic_pdfium_starts_total",
		"PDFium starts since the server started (one per burst of work after an idle stop).", nil, nil)
)

// Session, document and job states, so each reads 0 rather than vanishing.
var (
	documentStatuses = []string{"queued", "processing", "processed", "failed"}
	jobStates        = []string{"available", "scheduled", "pending", "retryable", "running", "completed", "cancelled", "discarded"}
)

type opsCollector struct{ s *Server }

func (c *opsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSessionsActive, descTurns, descLLMCalls, descLLMTokens, descLLMErrors, descVerdicts,
		descJobs, descJobOldest, descJobFailures, descDocuments, descWriteWaits, descWriteWait, descBusy, descPDFRunning, descPDFBusy, descPDFStarts} {
		ch <- d
	}
}

func (c *opsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()

	if s.sessions != nil {
		counter(descTurns, float64(s.sessions.TurnsAnswered()))
		verdicts := s.sessions.Verdicts()
		counter(descVerdicts, float64(verdicts[session.VerdictKey{Layer: "none", Category: "none"}]), "none", "none")
		for k, n := range verdicts {
			if k.Layer != "none" {
				counter(descVerdicts, float64(n), k.Layer, k.Category)
			}
		}
	}
	for _, p := range llm.Meters() {
		counter(descLLMCalls, float64(p.Calls), p.Provider)
		counter(descLLMTokens, float64(p.InputTokens), p.Provider, "input")
		counter(descLLMTokens, float64(p.OutputTokens), p.Provider, "output")
		counter(descLLMTokens, float64(p.CacheReadTokens), p.Provider, "cache_read")
		counter(descLLMTokens, float64(p.CacheWriteTokens), p.Provider, "cache_write")
		for kind, n := range p.Errors {
			counter(descLLMErrors, float64(n), p.Provider, kind)
		}
	}
	if s.pdf != nil {
		st := s.pdf.Stats()
		running := 0.0
		if st.Running {
			running = 1
		}
		gauge(descPDFRunning, running)
		gauge(descPDFBusy, float64(st.Busy))
		counter(descPDFStarts, float64(st.Starts))
	}
	if s.db == nil {
		return
	}
	ws := s.db.WriteStats()
	counter(descWriteWaits, float64(ws.BatchWrites), "batched")
	counter(descWriteWait, ws.BatchWait.Seconds(), "batched")
	counter(descWriteWaits, float64(ws.PoolWaits), "pool")
	counter(descWriteWait, ws.PoolWait.Seconds(), "pool")
	counter(descBusy, float64(ws.Busy))

	var active int
	if err := s.db.Read.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE status = 'active'`).Scan(&active); err != nil {
		s.logError(ctx, "metrics: sessions", err)
	} else {
		gauge(descSessionsActive, float64(active))
	}
	docs := map[string]int{}
	if rows, err := s.db.Read.QueryContext(ctx, `SELECT status, count(*) FROM documents GROUP BY status`); err != nil {
		s.logError(ctx, "metrics: documents", err)
	} else {
		for rows.Next() {
			var st string
			var n int
			if rows.Scan(&st, &n) == nil {
				docs[st] = n
			}
		}
		rows.Close()
		for _, st := range documentStatuses {
			gauge(descDocuments, float64(docs[st]), st)
		}
	}
	js, err := jobs.Stats(ctx, s.db.Read, s.db.Engine)
	if err != nil {
		s.logError(ctx, "metrics: jobs", err)
		return
	}
	// Each kind that has run or failed gets every state and a failure
	// count, zero included, so a panel shows 0 rather than no data.
	failed := jobs.Failures()
	kinds := map[string]bool{}
	for k := range js.ByKindState {
		kinds[k[0]] = true
	}
	for kind := range failed {
		kinds[kind] = true
	}
	for kind := range kinds {
		for _, st := range jobStates {
			gauge(descJobs, float64(js.ByKindState[[2]string{kind, st}]), kind, st)
		}
		counter(descJobFailures, float64(failed[kind]), kind)
	}
	gauge(descJobOldest, js.OldestWaiting)
}
