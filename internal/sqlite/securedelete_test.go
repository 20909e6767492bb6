package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkSecureDelete measures what zeroing deleted bytes costs the
// write connection on the heaviest delete the server does: a document's
// chunks (about 1.5 kB of text each) going in one transaction. "off" is
// the connection as it was before secure_delete was turned on.
func BenchmarkSecureDelete(b *testing.B) {
	for _, mode := range []string{"on", "off"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			db := open(b, filepath.Join(b.TempDir(), "bench.db"))
			for _, stmt := range []string{
				`PRAGMA secure_delete = ` + mode,
				`CREATE TABLE chunks (id INTEGER PRIMARY KEY, doc INTEGER NOT NULL, body TEXT NOT NULL)`,
				`CREATE INDEX chunks_doc ON chunks (doc)`,
			} {
				if _, err := db.Write.ExecContext(ctx, stmt); err != nil {
					b.Fatal(err)
				}
			}
			body := strings.Repeat("The court held the search unreasonable. ", 38)
			for i := range b.N {
				b.StopTimer()
				tx, err := db.Write.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				for j := range 2000 {
					if _, err := tx.ExecContext(ctx, `INSERT INTO chunks (doc, body) VALUES (?, ?)`, i, fmt.Sprint(j, body)); err != nil {
						b.Fatal(err)
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				if _, err := db.Write.ExecContext(ctx, `DELETE FROM chunks WHERE doc = ?`, i); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
