package tutor

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// ThemesArgs is the job that generates a week's themes.
type ThemesArgs struct {
	WeekID int64 `json:"week_id"`
	// OnlyIfEmpty: the automatic run after a week's readings are
	// processed leaves themes a professor already has alone.
	OnlyIfEmpty bool `json:"only_if_empty,omitempty"`
}

// Kind names the job in the queue.
func (ThemesArgs) Kind() string { return "generate_themes" }

// InsertOpts: a few attempts for a model that is briefly unavailable.
func (ThemesArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 3} }

// Themer generates and stores themes, with the model (its fast variant)
// or, when there is none, offline.
type Themer struct {
	db    *sqlite.DB
	model llm.Provider // nil: offline
	log   *slog.Logger
}

// NewThemer returns a themer; model may be nil.
func NewThemer(db *sqlite.DB, model llm.Provider, log *slog.Logger) *Themer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Themer{db: db, model: model, log: log}
}

// Worker runs ThemesArgs jobs.
func (th *Themer) Worker() river.Worker[ThemesArgs] { return &themesWorker{th: th} }

type themesWorker struct {
	river.WorkerDefaults[ThemesArgs]
	th *Themer
}

func (w *themesWorker) Work(ctx context.Context, job *river.Job[ThemesArgs]) error {
	return w.th.Generate(ctx, job.Args.WeekID, job.Args.OnlyIfEmpty)
}

// Timeout: map-reduce over a long week takes several model calls.
func (w *themesWorker) Timeout(*river.Job[ThemesArgs]) time.Duration { return 5 * time.Minute }

// Generate makes the week's themes from its processed readings and stores
// them. A week without readings gets none (and says so in the log); a
// model that fails to give usable themes is an error, for the queue to
// retry.
func (th *Themer) Generate(ctx context.Context, weekID int64, onlyIfEmpty bool) error {
	week, rest, err := readings(ctx, th.db.Read, weekID)
	if err != nil {
		return err
	}
	if len(week) == 0 {
		th.log.InfoContext(ctx, "no themes: the week has no processed reading", "week_id", weekID)
		return nil
	}
	// Every theme passes moderation's theme check before it is stored:
	// themes reach the prompt and a student's first question, and a model
	// reading injected text may name "ignore your instructions" as one.
	// A model's themes must also have the shape of one (not cut short,
	// not a bare place name, not a sentence: CheckThemeShape). Whatever
	// passes is kept, and the offline themes that overlap none of it
	// fill up to ThemeCount; when none of the model's passes, the
	// offline themes (checked too) stand in, rather than asking again a
	// model the same readings misled once.
	var themes []string
	if th.model != nil {
		generated, err := GenerateThemes(ctx, th.model, week)
		if err != nil {
			return fmt.Errorf("week %d: %w", weekID, err)
		}
		kept := keepThemes(ctx, th.log, weekID, th.name(), generated)
		themes = shapedThemes(ctx, th.log, weekID, th.name(), kept, week)
		if len(themes) == 0 {
			th.log.WarnContext(ctx, "no generated theme passed the theme check; using offline themes", "week_id", weekID)
		} else if len(themes) < len(kept) {
			themes = fillThemes(themes, keepThemes(ctx, th.log, weekID, "offline", OfflineThemes(week, rest)), len(kept))
		}
	}
	if len(themes) == 0 {
		if themes = keepThemes(ctx, th.log, weekID, "offline", OfflineThemes(week, rest)); len(themes) == 0 {
			th.log.InfoContext(ctx, "no themes: the week's readings repeat no phrase", "week_id", weekID)
			return nil
		}
	}
	b, _ := json.Marshal(themes)
	res, err := th.db.Write.ExecContext(ctx, `UPDATE weeks SET themes = ?, updated_at = ? WHERE id = ? AND (? = FALSE OR themes = '[]')`,
		string(b), sqlite.FormatTime(time.Now()), weekID, onlyIfEmpty)
	if err != nil {
		return fmt.Errorf("store themes of week %d: %w", weekID, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		th.log.InfoContext(ctx, "themes generated", "week_id", weekID, "themes", len(themes), "by", th.name())
	}
	return nil
}

func (th *Themer) name() string {
	if th.model == nil {
		return "offline"
	}
	return th.model.Name()
}

// readings are the passages of the week's processed documents, in reading
// order, and those of the course's other weeks.
func readings(ctx context.Context, ex sqlite.Execer, weekID int64) (week, rest []string, err error) {
	rows, err := ex.QueryContext(ctx, `SELECT c.week_id = ?1, c.content FROM chunks c
		JOIN documents d ON d.id = c.document_id AND d.status = 'processed'
		JOIN weeks w ON w.id = c.week_id
		WHERE w.course_id = (SELECT course_id FROM weeks WHERE id = ?1)
		ORDER BY c.document_id, c.chunk_index`, weekID)
	if err != nil {
		return nil, nil, fmt.Errorf("readings of week %d: %w", weekID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var mine bool
		var text string
		if err := rows.Scan(&mine, &text); err != nil {
			return nil, nil, fmt.Errorf("readings of week %d: %w", weekID, err)
		}
		if mine {
			week = append(week, text)
		} else {
			rest = append(rest, text)
		}
	}
	return week, rest, rows.Err()
}

// QueueAfterReadings is for the document service's AfterStore: once none
// of the week's documents waits to be processed, it queues the automatic
// themes (kept only if the week has none by then).
func QueueAfterReadings(ctx context.Context, tx *sql.Tx, client *river.Client[*sql.Tx], weekID int64) error {
	var waiting int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM documents WHERE week_id = ? AND status IN ('queued', 'processing')`, weekID).Scan(&waiting)
	if err != nil || waiting > 0 {
		return err
	}
	var themes string
	if err := tx.QueryRowContext(ctx, `SELECT themes FROM weeks WHERE id = ?`, weekID).Scan(&themes); err != nil || themes != "[]" {
		return err
	}
	_, err = client.InsertTx(ctx, tx, ThemesArgs{WeekID: weekID, OnlyIfEmpty: true}, nil)
	return err
}
