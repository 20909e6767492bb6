// Package local embeds text in-process with a sentence-transformers model
// (all-MiniLM-L6-v2) exported to ONNX: a pure-Go BERT WordPiece tokenizer,
// a model runner (ONNX Runtime where its shared library is present, a
// pure-Go runtime otherwise), mean pooling over the attention mask and L2
// normalisation — what sentence-transformers computes.
package local

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Tokenizer is the BERT WordPiece tokenizer of a Hugging Face
// tokenizer.json (BertNormalizer, BertPreTokenizer, WordPiece, a
// [CLS] … [SEP] template). It reproduces the Rust tokenizers library's ids
// exactly; the file's own padding and truncation settings are ignored, as
// sentence-transformers ignores them: callers truncate with Encode's max.
type Tokenizer struct {
	vocab      map[string]int32
	unk        int32
	cls, sep   int32
	prefix     string // continuing-subword prefix, "##"
	maxWordLen int    // longer words become [UNK]
	lowercase  bool
	strip      bool // strip accents
	chinese    bool // isolate CJK ideographs
	clean      bool // drop control characters, map whitespace to ' '
	specials   []special
}

// special is an added token matched in the raw text before normalisation,
// as the Rust library does ("[SEP]" typed in a text is the [SEP] token).
type special struct {
	content string
	id      int32
}

type tokenizerFile struct {
	AddedTokens []struct {
		ID         int32  `json:"id"`
		Content    string `json:"content"`
		Normalized bool   `json:"normalized"`
		Special    bool   `json:"special"`
	} `json:"added_tokens"`
	Normalizer *struct {
		Type               string `json:"type"`
		CleanText          bool   `json:"clean_text"`
		HandleChineseChars bool   `json:"handle_chinese_chars"`
		StripAccents       *bool  `json:"strip_accents"`
		Lowercase          bool   `json:"lowercase"`
	} `json:"normalizer"`
	PreTokenizer *struct {
		Type string `json:"type"`
	} `json:"pre_tokenizer"`
	Model struct {
		Type                    string           `json:"type"`
		UnkToken                string           `json:"unk_token"`
		ContinuingSubwordPrefix string           `json:"continuing_subword_prefix"`
		MaxInputCharsPerWord    int              `json:"max_input_chars_per_word"`
		Vocab                   map[string]int32 `json:"vocab"`
	} `json:"model"`
}

// LoadTokenizer reads a tokenizer.json. Only the BERT WordPiece family is
// understood; anything else is refused rather than tokenised wrongly.
func LoadTokenizer(path string) (*Tokenizer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f tokenizerFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	if f.Model.Type != "WordPiece" || f.Normalizer == nil || f.Normalizer.Type != "BertNormalizer" ||
		f.PreTokenizer == nil || f.PreTokenizer.Type != "BertPreTokenizer" {
		return nil, fmt.Errorf("tokenizer %s: not a BERT WordPiece tokenizer", path)
	}
	t := &Tokenizer{
		vocab:      f.Model.Vocab,
		prefix:     f.Model.ContinuingSubwordPrefix,
		maxWordLen: f.Model.MaxInputCharsPerWord,
		lowercase:  f.Normalizer.Lowercase,
		strip:      f.Normalizer.Lowercase,
		chinese:    f.Normalizer.HandleChineseChars,
		clean:      f.Normalizer.CleanText,
	}
	if f.Normalizer.StripAccents != nil {
		t.strip = *f.Normalizer.StripAccents
	}
	if t.maxWordLen == 0 {
		t.maxWordLen = 100
	}
	var ok [3]bool
	t.unk, ok[0] = t.vocab[f.Model.UnkToken]
	t.cls, ok[1] = t.vocab["[CLS]"]
	t.sep, ok[2] = t.vocab["[SEP]"]
	if !ok[0] || !ok[1] || !ok[2] {
		return nil, fmt.Errorf("tokenizer %s: vocabulary lacks [UNK], [CLS] or [SEP]", path)
	}
	for _, a := range f.AddedTokens {
		if a.Content != "" && !a.Normalized {
			t.specials = append(t.specials, special{a.Content, a.ID})
		}
	}
	return t, nil
}

// Encode returns the ids of [CLS] text [SEP], truncated to at most max ids
// (the text's tail is cut, the [SEP] kept).
func (t *Tokenizer) Encode(text string, max int) []int32 {
	ids := []int32{t.cls}
	limit := max - 1 // room for [SEP]
	for len(text) > 0 && len(ids) < limit {
		seg, sp, rest := t.nextSpecial(text)
		for _, w := range t.words(seg) {
			ids = t.wordPiece(w, ids)
			if len(ids) >= limit {
				break
			}
		}
		if sp != nil && len(ids) < limit {
			ids = append(ids, sp.id)
		}
		text = rest
	}
	return append(ids[:min(len(ids), limit)], t.sep)
}

// nextSpecial splits text at its first added token: the text before it,
// the token (nil if none) and the text after.
func (t *Tokenizer) nextSpecial(text string) (string, *special, string) {
	at, which := -1, -1
	for i, s := range t.specials {
		if j := strings.Index(text, s.content); j >= 0 && (at < 0 || j < at || j == at && len(s.content) > len(t.specials[which].content)) {
			at, which = j, i
		}
	}
	if at < 0 {
		return text, nil, ""
	}
	s := &t.specials[which]
	return text[:at], s, text[at+len(s.content):]
}

// words normalises a text and splits it into words and single punctuation
// marks (BertNormalizer then BertPreTokenizer).
func (t *Tokenizer) words(text string) []string {
	var b strings.Builder
	for _, r := range text {
		if t.clean {
			if r == 0 || r == utf8.RuneError || isControl(r) {
				continue
			}
			if isWhitespace(r) {
				r = ' '
			}
		}
		if t.chinese && isCJK(r) {
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
			continue
		}
		b.WriteRune(r)
	}
	s := b.String()
	if t.strip {
		s = stripAccents(s)
	}
	if t.lowercase {
		s = strings.Map(unicode.ToLower, s)
	}
	var out []string
	start := -1
	for i, r := range s {
		switch {
		case isWhitespace(r):
			if start >= 0 {
				out = append(out, s[start:i])
			}
			start = -1
		case isPunct(r):
			if start >= 0 {
				out = append(out, s[start:i])
			}
			out = append(out, string(r))
			start = -1
		default:
			if start < 0 {
				start = i
			}
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}

// wordPiece appends a word's greedy longest-match-first pieces, or [UNK]
// if the word is too long or any part of it is not in the vocabulary.
func (t *Tokenizer) wordPiece(w string, ids []int32) []int32 {
	if utf8.RuneCountInString(w) > t.maxWordLen {
		return append(ids, t.unk)
	}
	n := len(ids)
	for start := 0; start < len(w); {
		end := len(w)
		found := false
		for end > start {
			piece := w[start:end]
			if start > 0 {
				piece = t.prefix + piece
			}
			if id, ok := t.vocab[piece]; ok {
				ids = append(ids, id)
				found = true
				break
			}
			_, size := utf8.DecodeLastRuneInString(w[start:end])
			end -= size
		}
		if !found {
			return append(ids[:n], t.unk)
		}
		start = end
	}
	return ids
}

func stripAccents(s string) string {
	d := norm.NFD.String(s)
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, d)
}

// isControl is Rust's char::is_other (Cc, Cf, Cs, Co, Cn) but for tab,
// newline and carriage return, which count as whitespace. "Unassigned" is
// Go's Unicode version's: a code point assigned since the Rust crate's
// tables (a new emoji, say) becomes [UNK] here where it would be dropped
// there — rare, and only in such texts.
func isControl(r rune) bool {
	switch r {
	case '\t', '\n', '\r':
		return false
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) || !assigned(r)
}

func assigned(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.C)
}

func isWhitespace(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || unicode.Is(unicode.White_Space, r)
}

// isPunct: ASCII punctuation (symbols like $ + < = > ^ ` | ~ included) or
// any Unicode punctuation.
func isPunct(r rune) bool {
	if r < 128 {
		return r >= 33 && r <= 47 || r >= 58 && r <= 64 || r >= 91 && r <= 96 || r >= 123 && r <= 126
	}
	return unicode.IsPunct(r)
}

func isCJK(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF || r >= 0x20000 && r <= 0x2A6DF ||
		r >= 0x2A700 && r <= 0x2B73F || r >= 0x2B740 && r <= 0x2B81F || r >= 0x2B920 && r <= 0x2CEAF ||
		r >= 0xF900 && r <= 0xFAFF || r >= 0x2F800 && r <= 0x2FA1F
}
