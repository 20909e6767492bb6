package session

import "testing"

// What a spreadsheet could read as a formula is quoted; plain text,
// numbers and names are left as they are.
func TestCellEscapesFormulas(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		"Alice Smith":       "Alice Smith",
		"42":                "42",
		"O'Brien":           "O'Brien",
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
		"+1":                "'+1",
		"-1+2":              "'-1+2",
		"@SUM(A1)":          "'@SUM(A1)",
		"\t=1":              "'\t=1",
		"\r=1":              "'\r=1",
		"\n=1":              "'\n=1",
		"\x00=1":            "'\x00=1",
		"  =1+1":            "'  =1+1",
		"\uFF1D1+1":         "'\uFF1D1+1",
		"\uFF20SUM(A1)":     "'\uFF20SUM(A1)",
		"Student: =1":       "Student: =1",
		"a=b":               "a=b",
		"  Alice":           "  Alice",
	} {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
}
