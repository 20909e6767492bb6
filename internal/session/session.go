// Package session is the life of a tutoring session: the weekly quota, the
// five-minute clock, the transcript (every turn stored before it is
// acknowledged), the recording, and the sweeper that ends sessions nobody
// ended. The tutor answers the turns; this package decides when a turn may
// run and keeps what was said.
package session

import (
	"github.com/lawtutor/socratic/internal/blob"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/moderation"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/tutor"
)

// Status is where a session is in its life.
type Status string

const (
	Active Status = "active"
	Ended  Status = "ended"
)

// Why a session ended.
const (
	endClient     = "client"     // the student (or their app) ended it
	endExpired    = "expired"    // a message arrived after its clock ran out
	endReplaced   = "replaced"   // the student started another session
	endSwept      = "swept"      // the sweeper found it past its clock
	endModeration = "moderation" // too many turns off the course
)

// MaxModerated is how many strikes (moderated turns whose verdict is a
// strike: moderation.Verdict.Strike) a session allows: the last of them
// ends it, with ClosingLine. Off-topic remarks are moderated but no
// strike.
const MaxModerated = 3

// ClosingLine ends a session that keeps leaving the course.
const ClosingLine = "Let's stop here for today. When you come back, bring one question from this week's readings and we'll work through it together."

// Flag is one moderated turn, as professors review it.
type Flag struct {
	TurnID     int64                 `json:"turn_id"`
	ReplyID    int64                 `json:"reply_id"`
	Categories []moderation.Category `json:"categories"`
	Source     string                `json:"source" doc:"rules, classifier or output"`
	At         time.Time             `json:"at"`
}

// QuotaDetail is the 429 answer's detail when a student's week is used up
// (API.md fixes the text).
const QuotaDetail = "Exceeded maximum conversations per week"

// MaxMessageLen is the most characters one student message may hold.
const MaxMessageLen = 4000

// maxClientMsgIDLen bounds client_msg_id.
const maxClientMsgIDLen = 128

// Session is one tutoring session.
type Session struct {
	ID       int64
	UserID   int64
	CourseID int64
	WeekID   int64
	// The creation times of the course and week, as stored: with the ids,
	// they name the course and week even after SQLite reuses an id.
	CourseCreatedAt, WeekCreatedAt string
	CourseCode                     string
	CourseName                     string
	WeekNumber                     int
	WeekTitle                      string
	Status                         Status
	Counted                        bool // counts against the student's weekly quota
	Theme                          string
	VoiceID                        string
	StartedAt                      time.Time
	ExpiresAt                      time.Time
	EndedAt                        *time.Time
	EndReason                      string
	Duration                       *int // seconds, once ended
	ModeratedCount                 int
	Flags                          []Flag    // the moderated turns, for review
	StudentTurns                   int       // student turns stored, answered or not
	LastTurnAt                     time.Time // the last student turn's; zero before the first
	AudioName                      string    // file name under the audio directory; "" when none
	AudioType                      string
	AudioSize                      int64
	Transcript                     []Turn // detail only
	// Student is who held the session, for professors and admins; nil
	// for a student reading their own.
	Student *StudentInfo
}

// HasAudio says whether a recording is stored.
func (s Session) HasAudio() bool { return s.AudioName != "" }

// Role is who said a turn.
type Role string

const (
	Student Role = "user"
	Tutor   Role = "assistant"
)

// Turn is one message of the transcript.
type Turn struct {
	ID        int64
	Role      Role
	Content   string
	At        time.Time
	Sources   []Source // the tutor's turns
	Moderated bool
	// Categories are what moderation found, on a moderated turn.
	Categories []moderation.Category
	// Unanswered marks a student's turn whose answer failed or was
	// cancelled: it stays in the transcript, and the tutor never saw it.
	Unanswered bool
}

// Source is a passage a tutor's turn drew on.
type Source struct {
	ChunkID    int64  `json:"chunk_id"`
	DocumentID int64  `json:"document_id"`
	Filename   string `json:"filename"`
	Page       int    `json:"page"`
	Content    string `json:"content"`
}

// Errors a client is told about.
var (
	ErrNotFound   = errs.New(errs.NotFound, "session not found")
	ErrNotOwner   = errs.New(errs.Forbidden, "only the student who holds this session may do that")
	ErrEnded      = errs.New(errs.Conflict, "this session has ended")
	ErrTimeUp     = errs.New(errs.Conflict, "this session's time is up; it has been ended")
	ErrBusy       = errs.New(errs.Conflict, "the tutor is still answering your previous message")
	ErrNoReadings = errs.New(errs.Conflict, "this week has no processed reading yet, so there is nothing to discuss")
	ErrNoAnswer   = &errs.Error{Code: errs.Unavailable, Message: "the tutor could not answer just now; please send your message again", RetryAfter: 2 * time.Second}
	ErrNoAudio    = errs.New(errs.NotFound, "this session has no recording")
	// ErrDiskFull: the server's disk is full (or below sqlite.DiskReserve),
	// so the message was not stored and the tutor was not asked.
	ErrDiskFull = &errs.Error{Code: errs.Unavailable, Message: "the server's disk is full, so your message was not saved and the tutor did not answer; your session is as it was. Try again in a minute; if this keeps happening, tell your course's administrator", RetryAfter: time.Minute}
	// ErrDiskFullStart: the same, for a start: no session was opened, the
	// week's count is untouched and the student's open session, if any,
	// was not ended.
	ErrDiskFullStart = &errs.Error{Code: errs.Unavailable, Message: "the server's disk is full, so no session was started (this week's count is unchanged, and a session you have open is still open); try again in a minute, and if this keeps happening, tell your course's administrator", RetryAfter: time.Minute}
)

// Options configure a Service. Zero values take the defaults noted.
type Options struct {
	Tutor    *tutor.Tutor
	AudioDir string // recordings on their way in (AudioDir/tmp), and kept there by default
	// OwnAudioDir says no other running process uses AudioDir (it is inside
	// the data directory this process holds locked). On PostgreSQL a start
	// then removes every partial recording a stopped predecessor left, as
	// on SQLite; otherwise only those older than an hour, since another
	// instance may be receiving the rest.
	OwnAudioDir bool
	// Recordings is where recordings are kept: the folder AudioDir when
	// nil, or the bucket of BLOB_URL (blob.S3.Named("recordings")).
	Recordings  blob.Named
	PerWeek     int           // sessions a student may start a week
	MaxDuration time.Duration // a session's clock; default 5 minutes
	Location    *time.Location
	MaxAudio    int64 // bytes; default 25 MB
	// Grace is how long past its clock an open session waits for its
	// student before the sweeper ends it; default one minute.
	Grace time.Duration
	// What one student may cost. MinTurnInterval is the least time
	// between two messages of a session (0: no pacing); MaxTurns the
	// messages a session takes (default DefaultMaxTurns); DailyTokens the
	// model tokens a student's answers may cost a calendar day in Location
	// (0: no limit); HistoryBudget the earlier conversation sent with a
	// turn, in estimated tokens (0: the tutor's default).
	MinTurnInterval time.Duration
	MaxTurns        int
	DailyTokens     int64
	HistoryBudget   int
	// AudioRetention is how long a recording is kept after its session
	// ends; the sweeper deletes older ones. Zero keeps them.
	AudioRetention time.Duration
	Now            func() time.Time
	Rand           *rand.Rand
	Logger         *slog.Logger
}

// Service runs sessions. Every public method takes the acting user and
// applies the visibility rules itself.
type Service struct {
	db    *sqlite.DB
	tutor *tutor.Tutor
	o     Options
	log   *slog.Logger

	randMu sync.Mutex

	// answering holds, for each student turn being answered in this
	// process, a channel closed when its answer is stored or given up, so
	// a retry of the same client_msg_id waits for the first attempt.
	mu        sync.Mutex
	answering map[int64]chan struct{}

	// speeches counts each session's spoken replies (Speech).
	speechMu sync.Mutex
	speeches map[int64]*speechCount

	// Turns refused since the process started, for the admin's figures.
	refusedPace, refusedTurns, refusedBudget atomic.Int64
	// Answers stored and their verdicts, for /metrics.
	answers answerCounts
}

// NewService returns the session service.
func NewService(db *sqlite.DB, o Options) *Service {
	if o.MaxDuration <= 0 {
		o.MaxDuration = 5 * time.Minute
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.MaxAudio <= 0 {
		o.MaxAudio = 25 << 20
	}
	if o.Grace <= 0 {
		o.Grace = time.Minute
	}
	if o.MaxTurns <= 0 {
		o.MaxTurns = DefaultMaxTurns
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Recordings == nil {
		o.Recordings = blob.NewNamed(o.AudioDir)
	}
	return &Service{db: db, tutor: o.Tutor, o: o, log: o.Logger, answering: map[int64]chan struct{}{}}
}

// MaxDuration is a session's clock.
func (s *Service) MaxDuration() time.Duration { return s.o.MaxDuration }

// intn is a random number in [0, n) from the service's source.
func (s *Service) intn(n int) int {
	s.randMu.Lock()
	defer s.randMu.Unlock()
	return s.o.Rand.IntN(n)
}

// remaining is how long a session has left at now, never negative.
func remaining(sess Session, now time.Time) time.Duration {
	return max(sess.ExpiresAt.Sub(now), 0)
}

// durationAt is the session's length if it ends at now: capped at its clock.
func (s *Service) durationAt(sess Session, now time.Time) int {
	d := min(max(now.Sub(sess.StartedAt), 0), s.o.MaxDuration)
	return int(d / time.Second)
}
