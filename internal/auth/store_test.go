package auth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lawtutor/socratic/internal/errs"
	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/sqlite/sqlitetest"
)

// eachEngine runs fn on a migrated database of every engine, with a
// Service on it (cheap hashes, real tokens, registration open).
func eachEngine(t *testing.T, fn func(t *testing.T, s *Service)) {
	sqlitetest.Each(t, func(t *testing.T, db *sqlite.DB) {
		c := &clock{now: time.Now().UTC().Truncate(time.Microsecond)}
		s, err := NewService(context.Background(), db, Options{
			Hasher: newHasher(t, cheap, 4, time.Second), Tokens: newTokens(c),
			LoginMaxFailures: 100, AllowRegistration: true, Now: c.Now,
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fn(t, s)
	})
}

func isCode(err error, code errs.Code) bool {
	var e *errs.Error
	return errors.As(err, &e) && e.Code == code
}

// TestAccountsOnBothEngines: the account store's life cycle reads and
// writes the same on SQLite and PostgreSQL — create, sign in by either
// name in any case, tokens revoked by logout and role change, deactivation,
// listing and counting, erasure (last admin kept, ids never reused, the
// audit log blanked only where the erasure allows).
func TestAccountsOnBothEngines(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Service) {
		ctx := context.Background()
		if has, err := s.HasUsers(ctx); err != nil || has {
			t.Fatalf("HasUsers on an empty database: %v, %v", has, err)
		}
		admin, err := s.CreateUser(ctx, nil, NewUser{Email: "root@law.example.edu", Username: "root", Password: "a fine passphrase", Role: RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		ann, err := s.Register(ctx, Registration{NewUser: NewUser{Email: "Ann@Law.example.edu", Username: "Ann", Password: "another passphrase", FullName: "Ann Smith"}, Address: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		if ann.ID <= admin.ID || ann.Role != RoleStudent || !ann.IsActive || ann.Email != "ann@law.example.edu" {
			t.Fatalf("registered %+v", ann)
		}
		if has, err := s.HasUsers(ctx); err != nil || !has {
			t.Fatalf("HasUsers with two accounts: %v, %v", has, err)
		}
		// Names compare case-insensitively on both engines.
		_, err = s.Register(ctx, Registration{NewUser: NewUser{Email: "other@law.example.edu", Username: "ANN", Password: "another passphrase"}, Address: "192.0.2.1"})
		if !isCode(err, errs.Conflict) || err.Error() != "that username is taken" {
			t.Fatalf("ANN beside Ann: %v, want that username is taken", err)
		}
		for _, login := range []string{"ann", "ANN@law.example.edu"} {
			if _, err := s.Login(ctx, login, "another passphrase", "192.0.2.1"); err != nil {
				t.Fatalf("login as %q: %v", login, err)
			}
		}
		if _, err := s.Login(ctx, "ann", "wrong passphrase", "192.0.2.1"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("wrong password: %v", err)
		}
		res, err := s.Login(ctx, "ann", "another passphrase", "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Authenticate(ctx, res.Token)
		if err != nil || got.ID != ann.ID || got.FullName != "Ann Smith" || !got.CreatedAt.Equal(ann.CreatedAt) {
			t.Fatalf("authenticate: %+v, %v (registered %+v)", got, err, ann)
		}
		if err := s.Logout(ctx, got); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, res.Token); !errors.Is(err, ErrBadToken) {
			t.Fatalf("token after logout: %v", err)
		}
		prof := RoleProfessor
		up, err := s.UpdateUser(ctx, admin, ann.ID, Patch{Role: &prof})
		if err != nil || up.Role != RoleProfessor || up.TokenVersion != 2 {
			t.Fatalf("role change: %+v, %v; want professor at token version 2", up, err)
		}
		off := false
		if _, err := s.UpdateUser(ctx, admin, ann.ID, Patch{IsActive: &off}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Login(ctx, "ann", "another passphrase", "192.0.2.1"); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("login while deactivated: %v", err)
		}
		list, total, err := s.ListUsers(ctx, ListFilter{Query: "SMI", Limit: 10})
		if err != nil || total != 1 || len(list) != 1 || list[0].ID != ann.ID || list[0].IsActive {
			t.Fatalf("list by name: %d %+v, %v", total, list, err)
		}
		list, total, err = s.ListUsers(ctx, ListFilter{Query: "%", Limit: 10})
		if err != nil || total != 0 || len(list) != 0 {
			t.Fatalf("a %% in the query is a character, not a wildcard: %d %+v, %v", total, list, err)
		}
		list, total, err = s.ListUsers(ctx, ListFilter{Limit: 1, Offset: 1})
		if err != nil || total != 2 || len(list) != 1 || list[0].ID != ann.ID {
			t.Fatalf("second page of one: %d %+v, %v", total, list, err)
		}
		counts, err := s.CountByRole(ctx)
		if err != nil || counts[RoleAdmin] != 1 || counts[RoleProfessor] != 1 || counts[RoleStudent] != 0 {
			t.Fatalf("counts %v, %v", counts, err)
		}

		// Erasure: the last admin stays; Ann goes, her audit entries lose
		// her address, and her id is never handed out again.
		erase := func(id int64) error {
			tx, err := s.db.Write.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			if _, err := Erase(ctx, tx, s.db.Engine, nil, id, s.now(), nil); err != nil {
				return err
			}
			return tx.Commit()
		}
		if err := erase(admin.ID); !errors.Is(err, ErrLastAdmin) {
			t.Fatalf("erasing the last admin: %v", err)
		}
		if err := erase(ann.ID); err != nil {
			t.Fatal(err)
		}
		var withAddress int
		if err := s.db.Read.QueryRow(`SELECT count(*) FROM audit_log WHERE actor_id = ? AND ip <> ''`, ann.ID).Scan(&withAddress); err != nil || withAddress != 0 {
			t.Fatalf("Ann's audit entries with an address after erasure: %d, %v", withAddress, err)
		}
		if _, err := s.Authenticate(ctx, res.Token); !errors.Is(err, ErrBadToken) {
			t.Fatalf("an erased account's token: %v", err)
		}
		bob, err := s.CreateUser(ctx, &admin, NewUser{Email: "bob@law.example.edu", Username: "bob", Password: "a third passphrase", Role: RoleStudent})
		if err != nil || bob.ID <= ann.ID {
			t.Fatalf("after erasing id %d, a new account got id %d (%v): ids must never be reused", ann.ID, bob.ID, err)
		}
	})
}

// TestParallelChangesToOneAccountAllCount: logouts of one account racing
// each other (as they would from several instances) each bump its token
// version: none overwrites another's.
func TestParallelChangesToOneAccountAllCount(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Service) {
		ctx := context.Background()
		u, err := s.CreateUser(ctx, nil, NewUser{Email: "ann@law.example.edu", Username: "ann", Password: "a fine passphrase", Role: RoleStudent})
		if err != nil {
			t.Fatal(err)
		}
		const n = 20
		var wg sync.WaitGroup
		errc := make(chan error, n)
		for range n {
			wg.Go(func() { errc <- s.Logout(ctx, u) })
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			if err != nil {
				t.Fatal(err)
			}
		}
		var version int64
		if err := s.db.Read.QueryRow(`SELECT token_version FROM users WHERE id = ?`, u.ID).Scan(&version); err != nil || version != n {
			t.Fatalf("token version after %d logouts: %d, %v", n, version, err)
		}
	})
}

// TestRacingRegistrationsMakeOneAccount: registrations of one username
// racing each other make one account; every other is told the name is
// taken (a conflict, not an internal error).
func TestRacingRegistrationsMakeOneAccount(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Service) {
		ctx := context.Background()
		const n = 8
		var wg, past sync.WaitGroup
		past.Add(n)
		errc := make(chan error, n)
		for i := range n {
			wg.Go(func() {
				_, err := s.Register(ctx, Registration{NewUser: NewUser{Email: fmt.Sprintf("ann%d@law.example.edu", i), Username: "ann", Password: "a fine passphrase"}, Address: "192.0.2.1",
					// Every registration is past the check made before
					// the hash when the first one writes: they race in
					// their transactions.
					Check: func(context.Context) error { past.Done(); past.Wait(); return nil }})
				errc <- err
			})
		}
		wg.Wait()
		close(errc)
		made := 0
		for err := range errc {
			switch {
			case err == nil:
				made++
			case isCode(err, errs.Conflict) && err.Error() == "that username is taken":
			default:
				t.Errorf("a racing registration: %v, want success or that username is taken", err)
			}
		}
		var rows int
		if err := s.db.Read.QueryRow(`SELECT count(*) FROM users`).Scan(&rows); err != nil || made != 1 || rows != 1 {
			t.Fatalf("%d registrations succeeded, %d accounts stored (%v); want 1 and 1", made, rows, err)
		}
	})
}

// TestRacingErasuresKeepAnAdmin: the last two admins erased at once (from
// two instances, say): one erasure goes through, the other is refused as
// the last admin's, and one admin is left.
func TestRacingErasuresKeepAnAdmin(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *Service) {
		ctx := context.Background()
		var ids []int64
		for _, name := range []string{"ann", "bob"} {
			u, err := s.CreateUser(ctx, nil, NewUser{Email: name + "@law.example.edu", Username: name, Password: "a fine passphrase", Role: RoleAdmin})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, u.ID)
		}
		// Each erasure, past its check, waits (briefly) for the other to
		// be past its own: without a lock both would be, and both would
		// delete.
		var past sync.WaitGroup
		past.Add(len(ids))
		errc := make(chan error, len(ids))
		var wg sync.WaitGroup
		for _, id := range ids {
			wg.Go(func() {
				tx, err := s.db.Write.BeginTx(ctx, nil)
				if err != nil {
					errc <- err
					return
				}
				defer tx.Rollback()
				_, err = Erase(ctx, tx, s.db.Engine, nil, id, s.now(), func(User) error {
					past.Done()
					waited := make(chan struct{})
					go func() { past.Wait(); close(waited) }()
					select {
					case <-waited:
					case <-time.After(300 * time.Millisecond):
					}
					return nil
				})
				if err == nil {
					err = tx.Commit()
				}
				errc <- err
			})
		}
		wg.Wait()
		close(errc)
		var erased, refused int
		for err := range errc {
			switch {
			case err == nil:
				erased++
			case errors.Is(err, ErrLastAdmin):
				refused++
			default:
				t.Errorf("an erasure: %v, want success or the last admin's refusal", err)
			}
		}
		counts, err := s.CountByRole(ctx)
		if err != nil || erased != 1 || refused != 1 || counts[RoleAdmin] != 1 {
			t.Fatalf("%d erased, %d refused, %d admins left (%v); want 1, 1, 1", erased, refused, counts[RoleAdmin], err)
		}
	})
}

// BenchmarkAuthenticate: a signed-in request's account lookup (a verified
// token's user read by id, through the prepared statement) on each engine,
// one at a time and from parallel callers.
func BenchmarkAuthenticate(b *testing.B) {
	for _, e := range sqlitetest.Engines {
		b.Run(e.Name, func(b *testing.B) {
			ctx := context.Background()
			db := e.Open(b)
			if err := db.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			h, err := NewHasher(cheap, 4, time.Second)
			if err != nil {
				b.Fatal(err)
			}
			s, err := NewService(ctx, db, Options{Hasher: h, Tokens: NewTokens(tokenKey, tokenIss, tokenAud, tokenTTL, time.Now), LoginMaxFailures: 100})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			if _, err := s.CreateUser(ctx, nil, NewUser{Email: "ann@law.example.edu", Username: "ann", Password: "a fine passphrase", Role: RoleStudent}); err != nil {
				b.Fatal(err)
			}
			res, err := s.Login(ctx, "ann", "a fine passphrase", "192.0.2.1")
			if err != nil {
				b.Fatal(err)
			}
			b.Run("serial", func(b *testing.B) {
				for b.Loop() {
					if _, err := s.Authenticate(ctx, res.Token); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := s.Authenticate(ctx, res.Token); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}
