package local

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lawtutor/socratic/internal/testenv"
)

// modelsDir is testdata/models: the real all-MiniLM-L6-v2 tokenizer, a
// tiny BERT with the real export's interface, and golden values for both.
var modelsDir = testenv.Models()

type reference struct {
	MaxLength int `json:"max_length"`
	Cases     []struct {
		Text      string    `json:"text"`
		InputIDs  []int32   `json:"input_ids"`
		Embedding []float64 `json:"embedding"`
	} `json:"cases"`
}

func loadReference(t testing.TB) reference {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(modelsDir, "tiny-bert-reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r reference
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Cases) != 12 || r.MaxLength != MaxTokens {
		t.Fatalf("reference: %d cases, max_length %d", len(r.Cases), r.MaxLength)
	}
	return r
}

func loadTokenizer(t testing.TB) *Tokenizer {
	t.Helper()
	tok, err := LoadTokenizer(filepath.Join(modelsDir, "all-minilm-l6-v2-tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokenizerMatchesReference(t *testing.T) {
	tok := loadTokenizer(t)
	for _, c := range loadReference(t).Cases {
		if got := tok.Encode(c.Text, MaxTokens); !slices.Equal(got, c.InputIDs) {
			t.Errorf("Encode(%.60q)\n got %v\nwant %v", c.Text, got, c.InputIDs)
		}
	}
}

func TestTokenizerEdges(t *testing.T) {
	tok := loadTokenizer(t)
	for _, c := range []struct {
		text string
		want []int32
	}{
		// Added tokens are matched in the raw text, as the Rust library does.
		{"a [SEP] b", []int32{101, 1037, 102, 1038, 102}},
		// Control characters vanish; tabs and newlines separate words.
		{"court\x00\x0b\tcase\nlaw", []int32{101, 2457, 2553, 2375, 102}},
		// A word longer than 100 characters is one [UNK].
		{longWord(101), []int32{101, 100, 102}},
		// CJK ideographs stand alone.
		{"中国法", []int32{101, 1746, 1799, 1901, 102}},
	} {
		if got := tok.Encode(c.text, MaxTokens); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if got := tok.Encode("one two three four", 4); !slices.Equal(got, []int32{101, 2028, 2048, 102}) {
		t.Errorf("truncated to 4: %v", got)
	}
}

func longWord(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a'
	}
	return string(b)
}

func TestLoadTokenizerRefusesOtherKinds(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tokenizer.json")
	os.WriteFile(p, []byte(`{"model":{"type":"BPE","vocab":{}},"normalizer":null}`), 0o600)
	if _, err := LoadTokenizer(p); err == nil {
		t.Error("a BPE tokenizer was accepted")
	}
}
