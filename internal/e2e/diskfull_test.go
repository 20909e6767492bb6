package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/testenv"
)

// diskFullPDF is uploaded while the disk is full, and again once it is not.
const diskFullPDF = "ca1-calvary-chapel-of-bangor-v-mills-2020.pdf"

// TestFaultDiskFull (issue 19, fault suite item 3): the data directory on
// a 64 MB tmpfs the test mounts, filled to the last byte. An upload
// answers 507 and leaves neither a row nor a file; a turn answers 503
// with Retry-After, stores nothing and never reaches the model; reads
// keep answering; the operator is told once. When the filler goes, the
// same process takes an upload (and ingests it) and a turn again.
// Needs root to mount (skips otherwise; fails with SOCRATIC_REQUIRE_TOOLS=1).
func TestFaultDiskFull(t *testing.T) {
	testenv.OnlySQLite(t, "the full disk is the one under the server's database file; PostgreSQL's disk is the database server's")
	ctx := context.Background()
	disk := testenv.SmallDisk(t, 64<<20)
	m := StartModel(t, 0, 0)
	s := NewServerOn(t, disk, m.Env()...)
	s.Start()
	c := s.Client()
	w := SetupCourse(t, s, c, SmallPDF)
	tok := c.AddStudent(t, w, "ada")
	st := c.StartSession(t, tok, w.WeekID)
	if tr, err := c.StreamTurn(ctx, tok, st.SessionID, "What process is due? [m:before]", "before"); err != nil || !tr.Acknowledged() {
		t.Fatalf("turn before the disk filled: %v %+v\n%s", err, tr, s.Logs.String())
	}
	db := s.DB(t)
	turnsBefore := Count(t, db, `SELECT count(*) FROM turns WHERE session_id = ?`, st.SessionID)
	docsBefore := Count(t, db, `SELECT count(*) FROM documents`)
	filesBefore := StoredFiles(t, s.Dir)

	filler := filepath.Join(disk, "filler")
	filled := testenv.Fill(t, filler)
	t.Logf("filled the disk with %d MB", filled>>20)

	// An upload: 507, nothing kept.
	body, ct := UploadForm(t, testenv.CorpusPDF(diskFullPDF))
	upload := func() (Response, error) {
		return c.Do(ctx, "POST", fmt.Sprintf("/api/documents/upload?week_id=%d", w.WeekID), w.ProfToken, ct, bytes.NewReader(body))
	}
	r, err := upload()
	if err != nil {
		t.Fatalf("upload on a full disk: %v", err)
	}
	MustProblem(t, "upload on a full disk", r, 507, "disk is full", "administrator")
	if n := Count(t, db, `SELECT count(*) FROM documents`); n != docsBefore {
		t.Errorf("documents: %d after a refused upload, %d before", n, docsBefore)
	}
	if files := StoredFiles(t, s.Dir); !slices.Equal(files, filesBefore) {
		t.Errorf("upload store after a refused upload: %v, before: %v", files, filesBefore)
	}

	// A turn, on both routes: 503 with Retry-After, nothing stored, the
	// model never asked.
	r, err = c.API(ctx, "POST", fmt.Sprintf("/api/sessions/%d/message", st.SessionID), tok, map[string]string{"message": "And what notice? [m:full]", "client_msg_id": "full"})
	if err != nil {
		t.Fatalf("turn on a full disk: %v", err)
	}
	MustProblem(t, "turn on a full disk", r, 503, "disk is full", "not saved")
	if ra := r.Header.Get("Retry-After"); ra == "" {
		t.Error("turn on a full disk: 503 without Retry-After")
	}
	tr, err := c.StreamTurn(ctx, tok, st.SessionID, "And what notice? [m:full-stream]", "full-stream")
	if err != nil || tr.Status != 503 || tr.Done {
		t.Errorf("streamed turn on a full disk: %v status %d done %v: %s", err, tr.Status, tr.Done, tr.Body)
	}
	if n := Count(t, db, `SELECT count(*) FROM turns WHERE session_id = ?`, st.SessionID); n != turnsBefore {
		t.Errorf("turns: %d after refused turns, %d before: something was half-written", n, turnsBefore)
	}
	if n := Count(t, db, `SELECT count(*) FROM turns WHERE state = 'pending'`); n != 0 {
		t.Errorf("%d turns left pending", n)
	}
	if m.Calls("full")+m.Calls("full-stream") != 0 {
		t.Error("the model was asked for a turn that could not be stored")
	}

	// A start: 503 with Retry-After, no session opened, the week's count
	// untouched and the open session still open (a session that could
	// not store a turn would spend a start for nothing).
	sessionsBefore := Count(t, db, `SELECT count(*) FROM sessions`)
	r, err = c.API(ctx, "POST", "/api/sessions/start", tok, map[string]any{"week_id": w.WeekID, "mode": "text"})
	if err != nil {
		t.Fatalf("start on a full disk: %v", err)
	}
	MustProblem(t, "start on a full disk", r, 503, "disk is full", "no session was started")
	if ra := r.Header.Get("Retry-After"); ra == "" {
		t.Error("start on a full disk: 503 without Retry-After")
	}
	if n := Count(t, db, `SELECT count(*) FROM sessions`); n != sessionsBefore {
		t.Errorf("sessions: %d after a refused start, %d before", n, sessionsBefore)
	}
	if n := Count(t, db, `SELECT count(*) FROM sessions WHERE id = ? AND ended_at IS NULL`, st.SessionID); n != 1 {
		t.Error("a refused start ended the student's open session")
	}

	// Reads keep working.
	for _, get := range []struct{ path, token string }{
		{fmt.Sprintf("/api/courses/%d", w.CourseID), w.ProfToken},
		{fmt.Sprintf("/api/weeks/%d", w.WeekID), tok},
		{"/api/sessions", tok},
		{fmt.Sprintf("/api/sessions/%d", st.SessionID), tok},
		{fmt.Sprintf("/api/sessions?course_id=%d", w.CourseID), w.ProfToken},
		{fmt.Sprintf("/api/documents?week_id=%d", w.WeekID), w.ProfToken},
		{fmt.Sprintf("/api/documents/%d/file", w.DocID), w.ProfToken},
		{"/api/health/ready", ""},
	} {
		c.Must(t, "GET", get.path, get.token, nil, 200, nil)
	}
	var sess struct {
		Transcript []struct {
			Content string `json:"content"`
		} `json:"transcript"`
	}
	c.Must(t, "GET", fmt.Sprintf("/api/sessions/%d", st.SessionID), tok, nil, 200, &sess)
	if len(sess.Transcript) < 3 {
		t.Errorf("transcript on a full disk: %d turns, want the opening and the first exchange", len(sess.Transcript))
	}

	// Space freed: the same process takes writes again (the disk is
	// looked at again within a second).
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if r, err = upload(); err != nil {
			t.Fatalf("upload after space was freed: %v", err)
		}
		if r.Status != 507 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.Status != 202 {
		t.Fatalf("upload after space was freed: %d %s\n%s", r.Status, r.Body, s.Logs.String())
	}
	var up struct {
		DocumentID int64 `json:"document_id"`
	}
	if err := r.JSON(&up); err != nil {
		t.Fatal(err)
	}
	c.WaitDocument(t, w.ProfToken, up.DocumentID, 3*time.Minute, "processed")
	if tr, err := c.StreamTurn(ctx, tok, st.SessionID, "And what notice? [m:after]", "after"); err != nil || !tr.Acknowledged() {
		t.Fatalf("turn after space was freed: %v %+v\n%s", err, tr, s.Logs.String())
	}
	if n := Count(t, db, `SELECT count(*) FROM turns WHERE session_id = ?`, st.SessionID); n != turnsBefore+2 {
		t.Errorf("turns: %d after one more exchange, want %d", n, turnsBefore+2)
	}

	// The operator was told once that the disk filled, and once that it
	// has space again.
	logs := s.Logs.String()
	if n := strings.Count(logs, "disk holding the database is full"); n != 1 {
		t.Errorf("the log says the disk is full %d times, want once:\n%s", n, logs)
	}
	if !strings.Contains(logs, "has space again") {
		t.Errorf("the log never says the disk has space again:\n%s", logs)
	}
	s.Stop()
	s.IntegrityCheck(t, db)
}
