package course

import (
	"crypto/rand"
	"strings"

	"github.com/lawtutor/socratic/internal/errs"
)

// Join codes are 12 symbols of Crockford's base32 (60 bits from crypto/rand),
// shown as XXXX-XXXX-XXXX. The alphabet has no I, L, O or U, so a code read
// aloud in class or copied by hand survives: input is upper-cased, spaces and
// hyphens dropped, and O/I/L read as 0/1/1 before it is looked up. At 2^60
// codes, guessing one online is hopeless even before the join throttle.
const (
	joinAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	joinLen      = 12
	joinGroup    = 4
)

func newJoinCode() string {
	var b [joinLen]byte
	// rand.Read never fails (Go 1.24+: it crashes the program rather than
	// return weak bytes); 256 is a multiple of 32, so "% 32" is unbiased.
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = joinAlphabet[b[i]%byte(len(joinAlphabet))]
	}
	return formatJoinCode(string(b[:]))
}

func formatJoinCode(raw string) string {
	var sb strings.Builder
	for i := 0; i < len(raw); i++ {
		if i > 0 && i%joinGroup == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(raw[i])
	}
	return sb.String()
}

var errJoinCodeShape = errs.InvalidFields(errs.FieldError{Field: "join_code", Message: "must be 12 letters and digits, like ABCD-EFGH-JKMN"})

// normalizeJoinCode reads what a student typed into the stored form.
func normalizeJoinCode(s string) (string, error) {
	if len(s) > 64 {
		return "", errJoinCodeShape
	}
	raw := make([]byte, 0, joinLen)
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == ' ' || r == '-' || r == '\t':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if r > 127 || !strings.ContainsRune(joinAlphabet, r) {
			return "", errJoinCodeShape
		}
		raw = append(raw, byte(r))
	}
	if len(raw) != joinLen {
		return "", errJoinCodeShape
	}
	return formatJoinCode(string(raw)), nil
}
