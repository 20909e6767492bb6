package retrieval

import "strings"

// Tables of contents and indexes list every case and topic of a reading
// beside a page number ("Mathews v. Eldridge . . . . . 23"), so they share
// words with any question and name every case, yet answer none. Their
// mark is the dot leader.

// isListing reports whether a passage is mostly a table of contents or an
// index: at least minLeaders dot leaders (". . ." or "...") per 1,000
// characters.
func isListing(text string) bool {
	n := strings.Count(text, ". . .") + strings.Count(text, "...")
	return n >= 3 && n*1000 >= minLeaders*max(len(text), 1)
}

const minLeaders = 8

// demoteListings multiplies the score of listing passages by factor and
// reorders them.
func demoteListings(ss []Source, factor float64) {
	moved := false
	for i := range ss {
		if isListing(ss[i].Content) {
			ss[i].Score *= factor
			moved = true
		}
	}
	if moved {
		sortByScore(ss)
	}
}
