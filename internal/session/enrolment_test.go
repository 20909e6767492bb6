package session

import (
	"context"
	"errors"
	"testing"

	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
)

// TestEachTurnAsksTheCourseAgain: a student removed from the course is
// refused at the next message; a session whose course was deleted talks
// on, even once SQLite has given the course's id to a course the student
// is not in (another course, not the session's).
func TestEachTurnAsksTheCourseAgain(t *testing.T) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		e := newEnvOn(t, db, nil)
		ctx := context.Background()
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.Write.ExecContext(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		mine := e.start(t, "student").Session.ID
		theirs := e.start(t, "classmate").Session.ID
		if _, err := e.say(ctx, "student", mine, "Is acceptance effective on dispatch?", ""); err != nil {
			t.Fatalf("an enrolled student's message: %v", err)
		}
		exec(`DELETE FROM enrollments WHERE course_id = ? AND user_id = ?`, e.courseID, e.users["student"].ID)
		for range 2 { // the second through the prepared statements
			if _, err := e.say(ctx, "student", mine, "And revocation?", ""); !errors.Is(err, ErrNoLongerEnrolled) {
				t.Fatalf("a removed student's message: %v, want ErrNoLongerEnrolled", err)
			}
		}
		if _, err := e.say(ctx, "classmate", theirs, "Is acceptance effective on dispatch?", ""); err != nil {
			t.Fatalf("the classmate, still enrolled: %v", err)
		}

		// The course goes; a new one takes its id (created later), with
		// neither student in it.
		exec(`DELETE FROM courses WHERE id = ?`, e.courseID)
		if _, err := e.say(ctx, "classmate", theirs, "Still there?", ""); err != nil {
			t.Fatalf("a message after the course was deleted: %v", err)
		}
		override := "" // PostgreSQL's id is GENERATED ALWAYS
		if db.Engine == sqlite.Postgres {
			override = "OVERRIDING SYSTEM VALUE "
		}
		exec(`INSERT INTO courses (id, code, name, join_code, created_at, updated_at) `+override+`VALUES (?, 'LAW 909', 'Evidence', 'jc2', '2026-06-01T00:00:00.000000Z', '2026-06-01T00:00:00.000000Z')`, e.courseID)
		if _, err := e.say(ctx, "classmate", theirs, "And now?", ""); err != nil {
			t.Fatalf("a message after the course's id went to another course: %v", err)
		}
	})
}
