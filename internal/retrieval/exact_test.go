package retrieval

import (
	"slices"
	"testing"
)

func TestMentions(t *testing.T) {
	for in, want := range map[string][]string{
		"What are the factors under Mathews v. Eldridge?":                  {"mathewsveldridge"},
		"In Trump v. United States, what doubt did the concurrence raise?": {"trumpvunited"},
		"Is a claim under 42 U.S.C. § 1983 barred by Rule 60(b)?":          {"42usc§1983", "rule60b"},
		"Does § 465(b)(4) apply?":                                          {"§465b4"},
		"What does the court say about negligence?":                        nil,
		"Why wasn't Smith v. Doe the controlling case?":                    {"smithvdoe"},
	} {
		if got := mentions(in); !slices.Equal(got, want) {
			t.Errorf("mentions(%q) = %q, want %q", in, got, want)
		}
	}
}
