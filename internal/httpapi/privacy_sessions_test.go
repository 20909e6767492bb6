package httpapi

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRecordingRetention: with AUDIO_RETENTION_DAYS the sweeper deletes
// recordings of sessions that ended longer ago (file and reference) and
// keeps newer ones; at 0 it keeps every recording.
func TestRecordingRetention(t *testing.T) {
	for _, days := range []int{30, 0} {
		t.Run(fmt.Sprintf("days-%d", days), func(t *testing.T) {
			w := newSessionWorld(t, nil, func(c *cfgT) { c.RateLimitConversationsPerWeek = 100; c.AudioRetentionDays = days })
			recorded := func() int64 {
				id := w.startAs(t, "enrolled")
				body, ct := multipartBody("audio", "talk.wav", wav(2048))
				if e := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/end", token: w.persona["enrolled"], body: body, contentType: ct}); e.status != 200 {
					t.Fatalf("end: %d %s", e.status, e.body)
				}
				return id
			}
			old := recorded()
			oldFiles := recordingFiles(t, w.f.db.Read, "id = ?", old)
			w.clock.Add(time.Duration(max(days, 1000))*24*time.Hour + time.Hour)
			fresh := recorded()
			freshFiles := recordingFiles(t, w.f.db.Read, "id = ?", fresh)
			if _, err := w.svc.Sweep(context.Background()); err != nil {
				t.Fatal(err)
			}
			hasAudio := func(id int64) bool {
				return w.f.do(get("/api/sessions/"+itoa(id), w.persona["enrolled"])).json(t)["has_audio"] == true
			}
			_, err := os.Stat(filepath.Join(w.f.cfg.SessionDir, oldFiles[0]))
			if days > 0 {
				if !os.IsNotExist(err) || hasAudio(old) {
					t.Errorf("the old recording: file %v, has_audio %v", err, hasAudio(old))
				}
				if a := w.f.do(get("/api/sessions/"+itoa(old)+"/audio", w.persona["enrolled"])); a.status != 404 {
					t.Errorf("old audio: %d", a.status)
				}
				if g := w.f.do(get("/api/sessions/"+itoa(old), w.persona["enrolled"])); g.status != 200 || len(g.json(t)["transcript"].([]any)) == 0 {
					t.Errorf("the old session and its transcript must stay: %d %s", g.status, g.body)
				}
			} else if err != nil || !hasAudio(old) {
				t.Errorf("retention 0 must keep the old recording: %v", err)
			}
			if _, err := os.Stat(filepath.Join(w.f.cfg.SessionDir, freshFiles[0])); err != nil || !hasAudio(fresh) {
				t.Errorf("the fresh recording: %v, has_audio %v", err, hasAudio(fresh))
			}
		})
	}
}

// TestRemovedStudentLosesTheCourseAtOnce: removed from the course during
// a session, the student's next message is refused (JSON and stream), and
// no new session starts on its weeks.
func TestRemovedStudentLosesTheCourseAtOnce(t *testing.T) {
	w := newSessionWorld(t, nil)
	id := w.startAs(t, "enrolled")
	msg := `{"message":"Was the search reasonable?"}`
	if res := w.f.do(post("/api/sessions/"+itoa(id)+"/message", w.persona["enrolled"], msg)); res.status != 200 {
		t.Fatalf("first message: %d %s", res.status, res.body)
	}
	if res := w.f.do(request{method: "DELETE", path: "/api/courses/" + itoa(w.course.ID) + "/students/" + itoa(w.f.users["student"].ID), token: w.persona["teaching"]}); res.status != 204 {
		t.Fatalf("remove: %d %s", res.status, res.body)
	}
	before := w.f.sessionState()
	for _, path := range []string{"/message", "/message/stream"} {
		res := w.f.do(post("/api/sessions/"+itoa(id)+path, w.persona["enrolled"], msg))
		if res.status != 403 {
			t.Fatalf("%s after removal: %d %s", path, res.status, res.body)
		}
		assertProblem(t, res)
		if d := res.json(t)["detail"]; d != "you are no longer enrolled in this course, so this session can take no more messages" {
			t.Errorf("%s detail: %v", path, d)
		}
	}
	if after := w.f.sessionState(); after != before {
		t.Errorf("a refused message changed the session:\nbefore %s\nafter  %s", before, after)
	}
	if res := w.f.do(post("/api/sessions/start", w.persona["enrolled"], `{"week_id":`+itoa(w.week.ID)+`}`)); res.status != 404 {
		t.Errorf("start after removal: %d %s", res.status, res.body)
	}
	// Her session is still hers to read and end.
	if res := w.f.do(post("/api/sessions/"+itoa(id)+"/end", w.persona["enrolled"], "")); res.status != 200 {
		t.Errorf("end after removal: %d %s", res.status, res.body)
	}
	// The classmate, still enrolled, talks on.
	other := w.startAs(t, "classmate")
	if res := w.f.do(post("/api/sessions/"+itoa(other)+"/message", w.persona["classmate"], msg)); res.status != 200 {
		t.Errorf("classmate: %d %s", res.status, res.body)
	}
}
