package auth

import (
	"strings"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	// 254 bytes is the SMTP path limit.
	at254 := "a@" + strings.Repeat("b", 248) + ".edu"
	for _, tc := range []struct {
		name, in, want string // want "" means refused
	}{
		{"lower-cased and trimmed", "  Ann.Lee@Law.Example.EDU ", "ann.lee@law.example.edu"},
		{"plus address kept", "ann+tutor@law.edu", "ann+tutor@law.edu"},
		{"254 bytes accepted", at254, at254},
		{"255 bytes refused", "a" + at254, ""},
		{"empty refused", "", ""},
		{"only spaces refused", "   ", ""},
		{"display name refused", "Ann Lee <ann@law.edu>", ""},
		{"angle brackets refused", "<ann@law.edu>", ""},
		{"space inside refused", "ann lee@law.edu", ""},
		{"quoted local part refused", `"ann lee"@law.edu`, ""},
		{"no at refused", "ann.law.edu", ""},
		{"two ats refused", "ann@lee@law.edu", ""},
		{"domain without dot refused", "ann@localhost", ""},
		{"no domain refused", "ann@", ""},
		{"no local part refused", "@law.edu", ""},
		{"two addresses refused", "ann@law.edu, bob@law.edu", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ferr := NormalizeEmail(tc.in)
			if tc.want == "" {
				if ferr == nil || ferr.Field != "email" {
					t.Fatalf("NormalizeEmail(%q) = %q, %v; want refused", tc.in, got, ferr)
				}
				return
			}
			if ferr != nil || got != tc.want {
				t.Fatalf("NormalizeEmail(%q) = %q, %v; want %q", tc.in, got, ferr, tc.want)
			}
		})
	}
}

func TestCheckUsername(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"letters accepted", "alice", true},
		{"mixed case digits and punctuation accepted", "Ann.Lee_2-L", true},
		{"3 chars accepted", "abc", true},
		{"starts with a digit accepted", "1Lstudent", true},
		{"32 chars accepted", strings.Repeat("a", 32), true},
		{"2 chars refused", "ab", false},
		{"33 chars refused", strings.Repeat("a", 33), false},
		{"empty refused", "", false},
		{"Cyrillic e look-alike refused", "al\u0435x", false},
		{"fullwidth letters refused", "ａｄｍｉｎ", false},
		{"leading dot refused", ".alice", false},
		{"leading dash refused", "-alice", false},
		{"leading underscore refused", "_alice", false},
		{"space refused", "ann lee", false},
		{"SQL-looking refused", "x' OR '1'='1", false},
		{"SQL comment refused", "admin'--", false},
		{"at sign refused", "ann@law", false},
		{"slash refused", "../etc", false},
		{"NUL refused", "abc\x00", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ferr := CheckUsername(tc.in)
			if tc.ok != (ferr == nil) || ferr != nil && ferr.Field != "username" {
				t.Fatalf("CheckUsername(%q) = %v, want ok=%v", tc.in, ferr, tc.ok)
			}
		})
	}
}

func TestCheckPassword(t *testing.T) {
	const user, email = "AnnLee2024", "Ann.Lee.Law@Example.edu"
	for _, tc := range []struct {
		name, password string
		ok             bool
	}{
		{"good passphrase accepted", "purple torts of 1L", true},
		{"10 characters accepted", "k7#qLm2$wZ", true},
		{"10 multi-byte runes accepted", "ééééééééé1", true},
		{"128 runes accepted", strings.Repeat("ü", 127) + "x", true},
		{"9 characters refused", "k7#qLm2$w", false},
		{"9 multi-byte runes refused though 18 bytes", "ééééééééé", false},
		{"129 runes refused", strings.Repeat("ü", 128) + "x", false},
		{"invalid UTF-8 refused", "abcdefghij\xff", false},
		{"username refused", "AnnLee2024", false},
		{"username in other case refused", "annlee2024", false},
		{"email refused", "ann.lee.law@example.edu", false},
		{"email local part refused", "ANN.LEE.LAW", false},
		{"common password refused", "password123", false},
		{"common password in capitals refused", "Password123", false},
		{"common law-school password refused", "LawSchool123", false},
		{"only spaces refused", strings.Repeat(" ", 12), false},
		{"only whitespace refused", " \t \t \t \t \t ", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ferr := CheckPassword("new_password", tc.password, user, email)
			if tc.ok != (ferr == nil) || ferr != nil && ferr.Field != "new_password" {
				t.Fatalf("CheckPassword(%q) = %v, want ok=%v", tc.password, ferr, tc.ok)
			}
		})
	}
}

// Registration calls CheckPassword before the email is known to be valid.
func TestCheckPasswordWithoutAnEmail(t *testing.T) {
	for _, email := range []string{"", "no-at-sign", "@law.edu"} {
		if ferr := CheckPassword("password", "purple torts of 1L", "ann", email); ferr != nil {
			t.Errorf("email %q: %v", email, ferr)
		}
	}
}

func TestNormalizeFullName(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"trimmed", "  Ann Lee \n", "Ann Lee", true},
		{"accents and scripts kept", "Zoë Ødegård-李", "Zoë Ødegård-李", true},
		{"empty allowed", "", "", true},
		{"100 runes accepted", strings.Repeat("é", 100), strings.Repeat("é", 100), true},
		{"101 runes refused", strings.Repeat("é", 101), "", false},
		{"right-to-left override refused", "Ann \u202eeeL", "", false},
		{"zero-width joiner refused", "An\u200dn", "", false},
		{"zero-width space refused", "An\u200bn", "", false},
		{"line separator refused", "Ann\u2028Lee", "", false},
		{"hangul filler refused", "Ann\u3164", "", false},
		{"combining grapheme joiner refused", "An\u034fn", "", false},
		{"byte order mark refused", "\ufeffAnn", "", false},
		{"newline inside refused", "Ann\nLee", "", false},
		{"tab inside refused", "Ann\tLee", "", false},
		{"NUL refused", "Ann\x00", "", false},
		{"escape sequence refused", "Ann\x1b[31m", "", false},
		{"DEL refused", "Ann\x7f", "", false},
		{"invalid UTF-8 refused", "Ann\xff", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ferr := NormalizeFullName(tc.in)
			if tc.ok != (ferr == nil) || got != tc.want || ferr != nil && ferr.Field != "full_name" {
				t.Fatalf("NormalizeFullName(%q) = %q, %v; want %q ok=%v", tc.in, got, ferr, tc.want, tc.ok)
			}
		})
	}
}
