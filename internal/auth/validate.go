package auth

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lawtutor/socratic/internal/errs"
)

const (
	minPasswordLen = 10
	maxPasswordLen = 128
	minUsernameLen = 3
	maxUsernameLen = 32
	maxEmailLen    = 254
	maxFullNameLen = 100
)

// commonPasswords are long enough to pass the length rule but are among the
// first guesses of any attacker.
var commonPasswords = map[string]bool{
	"1234567890": true, "12345678910": true, "0987654321": true, "1111111111": true,
	"password12": true, "password123": true, "password1234": true, "passw0rd123": true,
	"qwertyuiop": true, "qwerty12345": true, "qwerty123456": true, "1q2w3e4r5t": true,
	"iloveyou12": true, "letmein123": true, "welcome123": true, "administrator": true,
	"abcdefghij": true, "abc1234567": true, "aaaaaaaaaa": true, "changeme123": true,
	"lawschool1": true, "lawschool123": true, "socratic123": true, "student123": true,
	"professor1": true, "professor123": true,
}

// NormalizeEmail lower-cases and trims an address and checks it is a bare
// address (no display name, no spaces).
func NormalizeEmail(s string) (string, *errs.FieldError) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", &errs.FieldError{Field: "email", Message: "is required"}
	}
	if len(s) > maxEmailLen {
		return "", &errs.FieldError{Field: "email", Message: "is too long"}
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", &errs.FieldError{Field: "email", Message: "is not a valid email address"}
	}
	return s, nil
}

// CheckUsername allows 3-32 ASCII letters, digits, '.', '_' and '-',
// starting with a letter or digit: usernames appear in transcripts, CSV
// exports and logs, where look-alike Unicode would deceive.
func CheckUsername(s string) *errs.FieldError {
	if len(s) < minUsernameLen || len(s) > maxUsernameLen {
		return &errs.FieldError{Field: "username", Message: "must be 3 to 32 characters"}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || (i > 0 && (c == '.' || c == '_' || c == '-'))
		if !ok {
			return &errs.FieldError{Field: "username", Message: "may hold only letters, digits, '.', '_' and '-', and must start with a letter or digit"}
		}
	}
	return nil
}

// CheckPassword refuses short, over-long, common passwords and ones equal to
// the username or email.
func CheckPassword(field, password, username, email string) *errs.FieldError {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return &errs.FieldError{Field: field, Message: "must be valid UTF-8"}
	case n < minPasswordLen:
		return &errs.FieldError{Field: field, Message: "must be at least 10 characters"}
	case n > maxPasswordLen:
		return &errs.FieldError{Field: field, Message: "must be at most 128 characters"}
	}
	lower := strings.ToLower(password)
	if strings.TrimSpace(password) == "" {
		return &errs.FieldError{Field: field, Message: "must not be only spaces"}
	}
	if lower == strings.ToLower(username) || lower == strings.ToLower(email) ||
		(email != "" && lower == strings.ToLower(email[:max(0, strings.IndexByte(email, '@'))])) {
		return &errs.FieldError{Field: field, Message: "must not be your username or email"}
	}
	if commonPasswords[lower] {
		return &errs.FieldError{Field: field, Message: "is too common; choose another"}
	}
	return nil
}

// invisible are letters and marks that render as nothing (Hangul fillers,
// the combining grapheme joiner), used to make two names look alike.
var invisible = map[rune]bool{0x034F: true, 0x115F: true, 0x1160: true, 0x3164: true, 0xFFA0: true}

// Hidden reports a character that does not show as itself: control and
// format characters (bidi overrides, zero-width joiners), line and
// paragraph separators, and letters that render as nothing. Names people
// read (accounts, courses, weeks, files) must not hold them.
func Hidden(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp) || invisible[r]
}

// NormalizeFullName trims a display name and refuses control and format
// characters (bidi overrides, zero-width joiners) that could disguise it.
func NormalizeFullName(s string) (string, *errs.FieldError) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", &errs.FieldError{Field: "full_name", Message: "must be valid UTF-8"}
	}
	if utf8.RuneCountInString(s) > maxFullNameLen {
		return "", &errs.FieldError{Field: "full_name", Message: "must be at most 100 characters"}
	}
	for _, r := range s {
		if Hidden(r) {
			return "", &errs.FieldError{Field: "full_name", Message: "must not contain control or invisible formatting characters"}
		}
	}
	return s, nil
}
