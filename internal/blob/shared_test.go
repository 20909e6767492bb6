package blob

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/lawtutor/socratic/internal/sqlite"
	"github.com/lawtutor/socratic/internal/testenv"
)

// TestReleaseRacingReuseAcrossInstances: two instances share one bucket
// and one PostgreSQL database (two *DB handles); one releases a file while
// the other reuses it inside WithLock. With the database's lock (Lock set
// to SessionLock, as serve does on PostgreSQL) no round ends with the row
// naming a removed file.
func TestReleaseRacingReuseAcrossInstances(t *testing.T) {
	url := testenv.Postgres(t)
	ctx := context.Background()
	endpoint := fakeS3(t, "uploads")
	u := &usage{used: map[string]bool{}}
	var stores []*S3
	for range 2 {
		db, err := sqlite.OpenPostgres(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		s, err := NewS3(S3Config{Bucket: "uploads", Endpoint: endpoint, Region: "us-east-1", AccessKey: "k", SecretKey: "s",
			Lock: func(ctx context.Context) (func(), error) { return db.SessionLock(ctx, "blob-store") }}, u.check)
		if err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	b := []byte("shared by two weeks on two instances")
	sum := sumOf(b)
	lost := 0
	for range 30 {
		u.set(sum, false)
		if err := stores[0].Put(ctx, sum, bytes.NewReader(b)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			if _, err := stores[0].Release(ctx, []string{sum}); err != nil {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			err := stores[1].WithLock(func() error {
				if err := stores[1].Put(ctx, sum, bytes.NewReader(b)); err != nil {
					return err
				}
				u.set(sum, true)
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		if ok, err := stores[1].Exists(ctx, sum); err != nil || !ok {
			lost++
		}
	}
	if lost > 0 {
		t.Fatalf("%d of 30 rounds left a row naming a removed file", lost)
	}
}
