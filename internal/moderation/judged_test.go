package moderation

import (
	"slices"
	"testing"
)

// TestJudgedRoleFeature: a politician or a famous person judged is one
// feature, beside whether the utterance speaks of law; each word alone is
// another value of it.
func TestJudgedRoleFeature(t *testing.T) {
	none := func(string) bool { return false }
	has := func(n, ctx string, bits byte) bool {
		var got []uint32
		features(n, none, func(h uint32) { got = append(got, h) })
		return slices.Contains(got, hashParts('j', ctx, string(rune('0'+bits)))&(hashSize-1))
	}
	for _, c := range []struct {
		n, ctx string
		bits   byte
	}{
		{"the senator is a coward", "nolegal", 1 | 4},
		{"that actress is so fake", "nolegal", 2 | 4},
		{"is calling the mayor a clown defamation", "legal", 1 | 4},
		{"the senator voted no", "nolegal", 1},
		{"that was a terrible answer sorry", "nolegal", 4},
		{"which paragraph are you looking at", "nolegal", 4},
		{"can you repeat the question", "nolegal", 0},
	} {
		if !has(c.n, c.ctx, c.bits) {
			t.Errorf("%q: no judged feature %s/%d", c.n, c.ctx, c.bits)
		}
	}
}
