package httpapi

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lawtutor/socratic/internal/auth"
	"github.com/lawtutor/socratic/internal/sqlite"
)

// zeldaAddress is where the erased student's own requests come from, so
// that the address is one of the traces looked for.
const zeldaAddress = "203.0.113.77"

// privacyWorld is a session world with a student, zeldaquill, whose name
// appears nowhere else, who signs in, holds two sessions (one recorded)
// from her own address, and a classmate with a recorded session of theirs.
type privacyWorld struct {
	*sessionWorld
	zelda     auth.User
	zeldaTok  string
	needles   []string // every value that would identify zelda
	zeldaSess []int64
	classSess int64
}

func newPrivacyWorld(t *testing.T) *privacyWorld {
	t.Helper()
	w := newSessionWorld(t, nil, func(c *cfgT) { c.RateLimitConversationsPerWeek = 100 })
	name := w.f.addUser("zeldaquill", auth.RoleStudent)
	if _, err := w.f.courses.Join(context.Background(), w.f.users[name], w.course.JoinCode); err != nil {
		t.Fatal(err)
	}
	pw := &privacyWorld{sessionWorld: w, zelda: w.f.users[name]}
	as := func(r request) response {
		r.remote = zeldaAddress + ":5000"
		return w.f.do(r)
	}
	// A wrong password, then a sign-in: both are audited with her address.
	if res := as(post("/api/auth/login", "", `{"username":"zeldaquill","password":"not the password at all"}`)); res.status != 401 {
		t.Fatalf("wrong password: %d", res.status)
	}
	res := as(post("/api/auth/login", "", `{"username":"zeldaquill","password":"`+testPassword+`"}`))
	if res.status != 200 {
		t.Fatalf("login: %d %s", res.status, res.body)
	}
	pw.zeldaTok = res.json(t)["access_token"].(string)
	w.persona["zelda"] = pw.zeldaTok
	pw.needles = []string{pw.zelda.Email, pw.zelda.Username, pw.zelda.FullName, zeldaAddress, "xyzzy-plover-marker"}

	for i := range 2 {
		res := as(request{method: "POST", path: "/api/sessions/start", token: pw.zeldaTok, body: `{"week_id":` + itoa(w.week.ID) + `}`})
		if res.status != 201 {
			t.Fatalf("start: %d %s", res.status, res.body)
		}
		id := int64(res.json(t)["session_id"].(float64))
		pw.zeldaSess = append(pw.zeldaSess, id)
		if m := as(post("/api/sessions/"+itoa(id)+"/message", pw.zeldaTok, `{"message":"Was the xyzzy-plover-marker search reasonable?"}`)); m.status != 200 {
			t.Fatalf("message: %d %s", m.status, m.body)
		}
		if i == 0 {
			body, ct := multipartBody("audio", "talk.wav", wav(2048))
			if e := as(request{method: "POST", path: "/api/sessions/" + itoa(id) + "/end", token: pw.zeldaTok, body: body, contentType: ct}); e.status != 200 {
				t.Fatalf("end: %d %s", e.status, e.body)
			}
		}
	}
	pw.classSess = w.startAs(t, "classmate")
	if m := w.f.do(post("/api/sessions/"+itoa(pw.classSess)+"/message", w.persona["classmate"], `{"message":"What did the classmate-only-marker court hold?"}`)); m.status != 200 {
		t.Fatalf("classmate message: %d %s", m.status, m.body)
	}
	body, ct := multipartBody("audio", "talk.wav", wav(1024))
	if e := w.f.do(request{method: "POST", path: "/api/sessions/" + itoa(pw.classSess) + "/end", token: w.persona["classmate"], body: body, contentType: ct}); e.status != 200 {
		t.Fatalf("classmate end: %d %s", e.status, e.body)
	}
	return pw
}

// recordingFiles are the names of the recordings sessions name.
func recordingFiles(t *testing.T, db *sql.DB, where string, args ...any) []string {
	t.Helper()
	rows, err := db.Query(`SELECT audio_name FROM sessions WHERE audio_name IS NOT NULL AND `+where, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// traces lists every place in the database that still holds something of
// a person: any table's any column containing one of needles (their email,
// name, address, words), and any column that can hold a user's id — a
// foreign key to users, or a name such as user_id, actor_id, *_by — equal
// to id. It reads the schema itself, so a table added later is covered.
// The audit log may keep entries naming the id, as numbers only: their
// address and detail must be blank, except the erasure's own tombstone.
func traces(t *testing.T, sdb *sqlite.DB, id int64, needles []string) []string {
	t.Helper()
	db := sdb.Read
	pg := sdb.Engine == sqlite.Postgres
	tablesQ, fksQ, colsQ, contains := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
		`SELECT "from" FROM pragma_foreign_key_list(?) WHERE "table" = 'users'`,
		`SELECT name FROM pragma_table_info(?)`,
		`instr(lower(CAST(%s AS TEXT)), lower(?)) > 0`
	if pg {
		tablesQ = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
		fksQ = `SELECT kcu.column_name FROM information_schema.table_constraints tc
			JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
			JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
			WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() AND tc.table_name = ? AND ccu.table_name = 'users'`
		colsQ = `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?`
		contains = `strpos(lower(CAST(%s AS TEXT)), lower(?)) > 0`
	}
	var tables []string
	rows, err := db.Query(tablesQ)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("read only %d tables: %v", len(tables), tables)
	}
	q := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
	count := func(query string, args ...any) int {
		var n int
		if err := db.QueryRow(query, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	var found []string
	for _, table := range tables {
		idCols := map[string]bool{}
		fks, err := db.Query(fksQ, table)
		if err != nil {
			t.Fatal(err)
		}
		for fks.Next() {
			var c string
			if err := fks.Scan(&c); err != nil {
				t.Fatal(err)
			}
			idCols[c] = true
		}
		fks.Close()
		cols, err := db.Query(colsQ, table)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for cols.Next() {
			var c string
			if err := cols.Scan(&c); err != nil {
				t.Fatal(err)
			}
			names = append(names, c)
		}
		cols.Close()
		for _, c := range names {
			for _, needle := range needles {
				if n := count(`SELECT count(*) FROM `+q(table)+` WHERE `+fmt.Sprintf(contains, q(c)), needle); n > 0 {
					found = append(found, fmt.Sprintf("%s.%s holds %q in %d rows", table, c, needle, n))
				}
			}
			l := strings.ToLower(c)
			if idCols[c] || strings.HasSuffix(l, "user_id") || strings.HasSuffix(l, "_by") || l == "actor_id" || l == "student_id" || (table == "users" && l == "id") {
				if table == "audit_log" {
					continue // judged below
				}
				// As text: on PostgreSQL some such columns are not numbers
				// (River's attempted_by is a text[]).
				if n := count(`SELECT count(*) FROM `+q(table)+` WHERE CAST(`+q(c)+` AS TEXT) = ?`, strconv.FormatInt(id, 10)); n > 0 {
					found = append(found, fmt.Sprintf("%s.%s = %d in %d rows", table, c, id, n))
				}
			}
		}
	}
	if n := count(`SELECT count(*) FROM audit_log WHERE
		(ip <> '' AND (actor_id = ?1 OR (actor_id IS NULL AND target_type = 'user' AND target_id = ?1)))
		OR (detail <> '{}' AND target_type = 'user' AND target_id = ?1 AND action <> 'user_delete')`, id); n > 0 {
		found = append(found, fmt.Sprintf("audit_log keeps an address or a detail in %d entries about user %d", n, id))
	}
	return found
}

// rawTraces lists the needles still present in the bytes of the database
// file or its write-ahead log: a deleted row's bytes stay in a free page or
// an old WAL frame, readable by anyone with the file (a backup, a stolen
// disk), though no query returns them. The -shm file holds only the WAL's
// index, never row data.
func rawTraces(t *testing.T, dbPath string, needles []string) []string {
	t.Helper()
	var found []string
	for _, name := range []string{dbPath, dbPath + "-wal"} {
		b, err := os.ReadFile(name)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ToLower(b)
		for _, n := range needles {
			if k := bytes.Count(b, []byte(strings.ToLower(n))); k > 0 {
				found = append(found, fmt.Sprintf("%s holds %q %d times in its raw bytes", filepath.Base(name), n, k))
			}
		}
	}
	return found
}

// TestDeleteUserErasesEverythingOfTheStudent: after the admin's DELETE no
// row, file or search result of the student remains; the classmate's
// session and recording do; the audit log has a tombstone without
// personal data; her token is dead, and her id is never anyone's again.
func TestDeleteUserErasesEverythingOfTheStudent(t *testing.T) {
	pw := newPrivacyWorld(t)
	f := pw.f
	db := f.db.Read
	if got := traces(t, f.db, pw.zelda.ID, pw.needles); len(got) == 0 {
		t.Fatal("the check finds nothing of zelda before the erasure: it cannot fail")
	}
	// The raw check reads SQLite's file and WAL; PostgreSQL's files are the
	// server's (a deleted row stays in them until VACUUM reuses its page:
	// docs/operations.md says so).
	raw := f.db.Engine == sqlite.SQLite
	if !raw {
		t.Log("the raw-bytes check reads SQLite's file and WAL: not on PostgreSQL, whose files are the database server's")
	}
	if got := rawTraces(t, f.db.Path, pw.needles); raw && len(got) < len(pw.needles) {
		t.Fatalf("the raw check finds only %v of zelda before the erasure: it cannot fail for the others", got)
	}
	zeldaFiles := recordingFiles(t, db, "user_id = ?", pw.zelda.ID)
	classFiles := recordingFiles(t, db, "user_id <> ?", pw.zelda.ID)
	if len(zeldaFiles) != 1 || len(classFiles) != 1 {
		t.Fatalf("recordings before: %v and %v", zeldaFiles, classFiles)
	}

	res := f.do(request{method: "DELETE", path: "/api/admin/users/" + itoa(pw.zelda.ID), token: f.tokenOf["admin"]})
	if res.status != 204 {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}

	for _, tr := range traces(t, f.db, pw.zelda.ID, pw.needles) {
		t.Error(tr)
	}
	if raw {
		for _, tr := range rawTraces(t, f.db.Path, pw.needles) {
			t.Error(tr)
		}
	}
	for _, name := range zeldaFiles {
		if _, err := os.Stat(filepath.Join(f.cfg.SessionDir, name)); !os.IsNotExist(err) {
			t.Errorf("recording %s is still on disk (%v)", name, err)
		}
	}
	entries, err := os.ReadDir(f.cfg.SessionDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		for _, id := range pw.zeldaSess {
			if strings.HasPrefix(e.Name(), fmt.Sprintf("session-%d-", id)) {
				t.Errorf("file %s of her session %d remains", e.Name(), id)
			}
		}
	}
	// Nothing more than hers went.
	if _, err := os.Stat(filepath.Join(f.cfg.SessionDir, classFiles[0])); err != nil {
		t.Errorf("the classmate's recording: %v", err)
	}
	if g := f.do(get("/api/sessions/"+itoa(pw.classSess), f.tokenOf["classmate"])); g.status != 200 || !strings.Contains(string(g.body), "classmate-only-marker") {
		t.Errorf("the classmate's session: %d %s", g.status, g.body)
	}
	for _, id := range pw.zeldaSess {
		if g := f.do(get("/api/sessions/"+itoa(id), f.tokenOf["admin"])); g.status != 404 {
			t.Errorf("her session %d as admin: %d", id, g.status)
		}
	}
	// No search result of hers, nor anything in the admin's lists.
	for _, query := range []string{"xyzzy-plover-marker search reasonable", "zeldaquill"} {
		s := f.do(post("/api/weeks/"+itoa(pw.week.ID)+"/search", f.tokenOf["professor"], `{"query":`+jsonString(query)+`,"k":20}`))
		if s.status != 200 {
			t.Fatalf("search: %d %s", s.status, s.body)
		}
		for _, n := range pw.needles {
			if strings.Contains(strings.ToLower(string(s.body)), strings.ToLower(n)) {
				t.Errorf("search for %q returns %q", query, n)
			}
		}
	}
	for _, path := range []string{"/api/admin/users?limit=200", "/api/admin/audit?limit=200", "/api/sessions?limit=200", "/api/courses/" + itoa(pw.course.ID) + "/students"} {
		g := f.do(get(path, f.tokenOf["admin"]))
		for _, n := range pw.needles {
			if g.status != 200 || strings.Contains(strings.ToLower(string(g.body)), strings.ToLower(n)) {
				t.Errorf("%s: %d, holds %q", path, g.status, n)
			}
		}
	}
	// The tombstone: who erased whom, by number, and nothing personal.
	a := f.do(get("/api/admin/audit?action=user_delete", f.tokenOf["admin"])).json(t)
	items, _ := a["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("tombstones: %v", a)
	}
	tomb := items[0].(map[string]any)
	if tomb["target_type"] != "user" || tomb["target_id"] != float64(pw.zelda.ID) || tomb["actor_id"] != float64(f.users["admin"].ID) {
		t.Errorf("tombstone: %v", tomb)
	}
	if d, _ := json.Marshal(tomb["detail"]); strings.Contains(string(d), "zelda") || strings.Contains(string(d), "@") {
		t.Errorf("tombstone detail: %s", d)
	}
	// Her token is dead, and her id is never given to a newcomer: an
	// unexpired token of hers must never sign in as someone else.
	if g := f.do(get("/api/auth/me", pw.zeldaTok)); g.status != 401 {
		t.Errorf("her token after erasure: %d", g.status)
	}
	reg := f.do(post("/api/auth/register", "", `{"email":"newcomer@law.example.edu","username":"newcomer","password":"a fine long password"}`))
	if reg.status != 201 {
		t.Fatalf("register: %d %s", reg.status, reg.body)
	}
	if id := int64(reg.json(t)["id"].(float64)); id == pw.zelda.ID {
		t.Errorf("the newcomer got the erased id %d", id)
	}
	if g := f.do(get("/api/auth/me", pw.zeldaTok)); g.status != 401 {
		t.Errorf("her token after a newcomer registered: %d %s", g.status, g.body)
	}
}

// TestDeleteUserRefusals: the last admin, oneself and an unknown id are
// refused with a reason, and change nothing.
func TestDeleteUserRefusals(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(f *fixture) request
		want   int
		detail string
	}{
		{"409-last-admin", func(f *fixture) request {
			return request{method: "DELETE", path: "/api/admin/users/" + itoa(f.users["admin"].ID), token: f.tokenOf["admin"]}
		}, 409, "the last admin account cannot be deleted; make another admin first"},
		{"409-self", func(f *fixture) request {
			f.addUser("admin2", auth.RoleAdmin)
			return request{method: "DELETE", path: "/api/admin/users/" + itoa(f.users["admin2"].ID), token: f.tokenOf["admin2"]}
		}, 409, "you cannot delete your own account; another admin must do it"},
		{"409-last-active-admin", func(f *fixture) request {
			f.addUser("admin2", auth.RoleAdmin)
			off := false
			if _, err := f.auth.UpdateUser(context.Background(), f.users["admin"], f.users["admin2"].ID, auth.Patch{IsActive: &off}); err != nil {
				f.t.Fatal(err)
			}
			// admin2 is inactive and cannot act; the CLI's nil actor is
			// not reachable here, so the rule is seen from the one active admin.
			return request{method: "DELETE", path: "/api/admin/users/" + itoa(f.users["admin"].ID), token: f.tokenOf["admin"]}
		}, 409, "the last admin account cannot be deleted; make another admin first"},
		{"404-unknown", func(f *fixture) request {
			return request{method: "DELETE", path: "/api/admin/users/999999", token: f.tokenOf["admin"]}
		}, 404, "user not found"},
		{"403-professor", func(f *fixture) request {
			return request{method: "DELETE", path: "/api/admin/users/" + itoa(f.users["student"].ID), token: f.tokenOf["professor"]}
		}, 403, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			req := tc.setup(f)
			before := f.state()
			res := f.do(req)
			if res.status != tc.want {
				t.Fatalf("%d, want %d: %s", res.status, tc.want, res.body)
			}
			assertProblem(t, res)
			if tc.detail != "" && res.json(t)["detail"] != tc.detail {
				t.Errorf("detail %v, want %q", res.json(t)["detail"], tc.detail)
			}
			if after := f.state(); after != before {
				t.Errorf("a refused delete changed accounts or the audit log")
			}
		})
	}
}

// TestDeleteProfessorLeavesTheirCourses: a professor who teaches is removed
// from the course's instructors; the course, its weeks and readings stay.
func TestDeleteProfessorLeavesTheirCourses(t *testing.T) {
	w := newWorld(t)
	f := w.f
	prof := f.users["professor"]
	if res := f.do(request{method: "DELETE", path: "/api/admin/users/" + itoa(prof.ID), token: f.tokenOf["admin"]}); res.status != 204 {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	g := f.do(get("/api/courses/"+itoa(w.course.ID), f.tokenOf["admin"]))
	if g.status != 200 {
		t.Fatalf("course after: %d %s", g.status, g.body)
	}
	c := g.json(t)
	if ids, _ := c["instructor_ids"].([]any); len(ids) != 0 || len(c["weeks"].([]any)) != 1 {
		t.Errorf("course after: %s", g.body)
	}
	for _, tr := range traces(t, f.db, prof.ID, []string{prof.Email, "Test professor"}) {
		t.Error(tr)
	}
}

// TestExportIsTheCallersOwnData: two students with sessions in one course;
// each export holds every session of its caller, with transcripts and the
// recording's URL, and nothing of the other; a professor's holds their own
// session and the course they teach, never their students' sessions.
func TestExportIsTheCallersOwnData(t *testing.T) {
	pw := newPrivacyWorld(t)
	f := pw.f
	profSess := pw.startAs(t, "teaching")

	res := f.do(get("/api/auth/me/export", pw.zeldaTok))
	if res.status != 200 {
		t.Fatalf("export: %d %s", res.status, res.body)
	}
	var ex struct {
		Account struct {
			ID    int64  `json:"id"`
			Email string `json:"email"`
		} `json:"account"`
		Enrollments []struct {
			ID   int64  `json:"id"`
			Code string `json:"code"`
		} `json:"enrollments"`
		Teaching []struct {
			ID int64 `json:"id"`
		} `json:"teaching"`
		Sessions []struct {
			ID         int64   `json:"id"`
			UserID     int64   `json:"user_id"`
			HasAudio   bool    `json:"has_audio"`
			AudioURL   *string `json:"audio_url"`
			Transcript []struct {
				Role    string `json:"role"`
				Content string `json:"content"`
				Sources *[]any `json:"sources"`
			} `json:"transcript"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal(res.body, &ex); err != nil {
		t.Fatal(err)
	}
	if ex.Account.ID != pw.zelda.ID || ex.Account.Email != pw.zelda.Email {
		t.Errorf("account: %+v", ex.Account)
	}
	if len(ex.Enrollments) != 1 || ex.Enrollments[0].ID != pw.course.ID || len(ex.Teaching) != 0 {
		t.Errorf("enrollments %+v, teaching %+v", ex.Enrollments, ex.Teaching)
	}
	var got []int64
	for _, s := range ex.Sessions {
		got = append(got, s.ID)
		if s.UserID != pw.zelda.ID {
			t.Errorf("session %d of user %d", s.ID, s.UserID)
		}
		said, sourced := false, false
		for _, turn := range s.Transcript {
			said = said || turn.Role == "user" && strings.Contains(turn.Content, "xyzzy-plover-marker")
			sourced = sourced || turn.Role == "assistant" && turn.Sources != nil
		}
		if !said || !sourced {
			t.Errorf("session %d transcript lacks her words or the tutor's sources: %+v", s.ID, s.Transcript)
		}
		if s.HasAudio != (s.AudioURL != nil) || s.HasAudio && *s.AudioURL != "/api/sessions/"+itoa(s.ID)+"/audio" {
			t.Errorf("session %d recording: has_audio %v url %v", s.ID, s.HasAudio, s.AudioURL)
		}
		if s.AudioURL != nil {
			if a := f.do(get(*s.AudioURL, pw.zeldaTok)); a.status != 200 {
				t.Errorf("her recording's URL: %d", a.status)
			}
		}
	}
	slices.Sort(got)
	if want := pw.zeldaSess; !slices.Equal(got, want) {
		t.Errorf("exported sessions %v, want every one of hers %v", got, want)
	}
	body := strings.ToLower(string(res.body))
	for _, other := range []string{f.users["classmate"].Email, "classmate-only-marker", f.users["professor"].Email, "password", "argon2", "token_version"} {
		if strings.Contains(body, strings.ToLower(other)) {
			t.Errorf("her export holds %q", other)
		}
	}
	if cd := res.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") {
		t.Errorf("Content-Disposition %q", cd)
	}

	res = f.do(get("/api/auth/me/export", f.tokenOf["professor"]))
	if res.status != 200 {
		t.Fatalf("professor export: %d %s", res.status, res.body)
	}
	ex.Sessions, ex.Teaching, ex.Enrollments = nil, nil, nil
	if err := json.Unmarshal(res.body, &ex); err != nil {
		t.Fatal(err)
	}
	if len(ex.Sessions) != 1 || ex.Sessions[0].ID != profSess || len(ex.Teaching) != 1 || ex.Teaching[0].ID != pw.course.ID || len(ex.Enrollments) != 0 {
		t.Errorf("professor export: sessions %+v teaching %+v enrollments %+v", ex.Sessions, ex.Teaching, ex.Enrollments)
	}
	for _, other := range pw.needles {
		if strings.Contains(strings.ToLower(string(res.body)), strings.ToLower(other)) {
			t.Errorf("the professor's export holds their student's %q", other)
		}
	}
}
