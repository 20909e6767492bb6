package retrieval

import (
	"context"

	"github.com/lawtutor/socratic/internal/sqlite"
)

// Search returns up to k passages of the week's readings for query, best
// first.
func Search(ctx context.Context, ex sqlite.Execer, weekID int64, query string, k int) ([]Source, error) {
	return BM25(ctx, ex, weekID, query, k)
}
