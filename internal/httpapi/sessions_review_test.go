package httpapi

import (
	"reflect"
	"sort"
	"testing"
)

// TestSessionListsNameTheStudent: professors and admins see who held each
// session (username, full name, email) beside user_id, in the list and the
// detail; a student's view of their own sessions carries no such block.
func TestSessionListsNameTheStudent(t *testing.T) {
	w := newSessionWorld(t, nil)
	id := w.startAs(t, "enrolled")
	student := w.f.users["student"]
	if _, err := w.f.db.Write.Exec(`UPDATE users SET full_name = 'Ada Lovelace' WHERE id = ?`, student.ID); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"username": student.Username, "full_name": "Ada Lovelace", "email": student.Email}
	for _, tc := range []struct {
		name, who string
		named     bool
	}{
		{"list-professor-named", "teaching", true},
		{"list-admin-named", "admin", true},
		{"list-student-unnamed", "enrolled", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := w.f.do(request{method: "GET", path: "/api/sessions", token: w.persona[tc.who]})
			if res.status != 200 {
				t.Fatalf("%d %s", res.status, res.body)
			}
			items := res.json(t)["items"].([]any)
			if len(items) != 1 {
				t.Fatalf("items: %s", res.body)
			}
			checkStudent(t, items[0].(map[string]any), tc.named, want)
			detail := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id), token: w.persona[tc.who]})
			if detail.status != 200 {
				t.Fatalf("detail %d %s", detail.status, detail.body)
			}
			checkStudent(t, detail.json(t), tc.named, want)
		})
	}
}

func checkStudent(t *testing.T, s map[string]any, named bool, want map[string]any) {
	t.Helper()
	got, has := s["student"]
	if !named {
		if has {
			t.Errorf("a student's own view names them: %v", got)
		}
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("student %v, want %v", got, want)
	}
	if s["user_id"] == nil {
		t.Error("user_id gone")
	}
}

// TestEndAnswersTheSummary: ending a session answers the contract's
// summary — message, the turns without their sources, duration — not every
// passage behind every answer, which the detail still has.
func TestEndAnswersTheSummary(t *testing.T) {
	w := newSessionWorld(t, nil)
	id := w.startAs(t, "enrolled")
	for i, q := range []string{"Was the search reasonable?", "What did the court say about consent?"} {
		if i > 0 {
			w.clock.Add(w.turnInterval())
		}
		if res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/message", token: w.persona["enrolled"], body: `{"message":"` + q + `"}`}); res.status != 200 {
			t.Fatalf("message: %d %s", res.status, res.body)
		}
	}
	detail := w.f.do(request{method: "GET", path: "/api/sessions/" + itoa(id), token: w.persona["enrolled"]}).json(t)
	full := detail["transcript"].([]any)
	var sources int
	for _, turn := range full {
		if src, ok := turn.(map[string]any)["sources"].([]any); ok {
			sources += len(src)
		}
	}
	if sources == 0 {
		t.Fatal("the tutor's answers drew on no passage: nothing for the summary to leave out")
	}

	res := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/end", token: w.persona["enrolled"]})
	if res.status != 200 {
		t.Fatalf("end: %d %s", res.status, res.body)
	}
	t.Logf("end answered %d bytes for %d turns", len(res.body), len(full))
	m := res.json(t)
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !reflect.DeepEqual(keys, []string{"duration_seconds", "message", "transcript"}) {
		t.Errorf("keys %v", keys)
	}
	if m["message"] != "Session ended successfully" {
		t.Errorf("message %v", m["message"])
	}
	summary := m["transcript"].([]any)
	if len(summary) != len(full) {
		t.Fatalf("%d turns in the summary, %d in the session", len(summary), len(full))
	}
	for i, turn := range summary {
		tm := turn.(map[string]any)
		if _, has := tm["sources"]; has {
			t.Errorf("turn %d carries sources", i)
		}
		fm := full[i].(map[string]any)
		for _, k := range []string{"role", "content", "at", "moderated"} {
			if tm[k] != fm[k] {
				t.Errorf("turn %d %s: %v, detail has %v", i, k, tm[k], fm[k])
			}
		}
	}
}
