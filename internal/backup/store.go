package backup

import (
	"context"
	"fmt"
)

// referenced lists the files a database names: the uploads' sha256
// (documents.sha256, owned by internal/document) and the recordings'
// names (sessions.audio_name, owned by internal/session). It runs on the
// backup's own copy, so the list matches that copy exactly.
func referenced(ctx context.Context, db queryer) (sums, names []string, err error) {
	if sums, err = queryStrings(ctx, db, `SELECT DISTINCT sha256 FROM documents ORDER BY sha256`); err != nil {
		return nil, nil, fmt.Errorf("list uploads: %w", err)
	}
	for _, s := range sums {
		if !isSum(s) {
			return nil, nil, fmt.Errorf("list uploads: %q is not a sha256", s)
		}
	}
	if names, err = queryStrings(ctx, db, `SELECT audio_name FROM sessions WHERE audio_name IS NOT NULL ORDER BY audio_name`); err != nil {
		return nil, nil, fmt.Errorf("list recordings: %w", err)
	}
	for _, n := range names {
		if !validAudioName(n) {
			return nil, nil, fmt.Errorf("list recordings: %q is not a recording's name", n)
		}
	}
	return sums, names, nil
}

func queryStrings(ctx context.Context, db queryer, q string) ([]string, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
