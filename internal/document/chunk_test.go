package document

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func sampleText(r *rand.Rand, n int) string {
	words := []string{"the", "court", "held", "that", "negligence", "requires", "a", "duty,", "breach", "causation", "and", "damages.", "§ 1983", "plaintiff’s", "ﬁduciary", "Id.", "at", "12"}
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteString(words[r.IntN(len(words))])
		switch r.IntN(40) {
		case 0:
			sb.WriteString("\n\n")
		case 1, 2:
			sb.WriteString("\n")
		default:
			sb.WriteString(" ")
		}
	}
	return sb.String()
}

func TestSplitterInvariants(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, sz := range []struct{ size, overlap int }{{1000, 200}, {300, 50}, {50, 0}, {120, 100}} {
		text := sampleText(r, 60_000)
		// Pages every ~7000 bytes, on rune boundaries.
		starts := []int{0}
		for off := 7000; off < len(text); off += 7000 {
			for !utf8.RuneStart(text[off]) {
				off++
			}
			starts = append(starts, off)
		}
		chunks := Splitter{Size: sz.size, Overlap: sz.overlap}.Split(text, starts)
		if len(chunks) < len(text)/sz.size {
			t.Fatalf("%v: only %d chunks", sz, len(chunks))
		}
		covered := 0 // every byte of text up to here is in some chunk or is space
		for i, c := range chunks {
			if c.Index != i {
				t.Fatalf("index %d at %d", c.Index, i)
			}
			if n := utf8.RuneCountInString(c.Content); n > sz.size {
				t.Fatalf("%v: chunk %d has %d characters", sz, i, n)
			}
			if c.Content != text[c.Start:c.End] || strings.TrimSpace(c.Content) != c.Content || c.Content == "" {
				t.Fatalf("chunk %d span does not match its content", i)
			}
			if strings.TrimSpace(text[covered:max(covered, c.Start)]) != "" {
				t.Fatalf("%v: text before chunk %d is in no chunk: %q", sz, i, text[covered:c.Start])
			}
			if i > 0 {
				prev := chunks[i-1]
				if c.Start < prev.Start || c.End <= prev.End {
					t.Fatalf("chunks out of order at %d", i)
				}
				if ov := prev.End - c.Start; ov > 0 && utf8.RuneCountInString(text[c.Start:prev.End]) > sz.overlap {
					t.Fatalf("%v: chunk %d overlaps the previous by %d bytes", sz, i, ov)
				}
			}
			wantPage := 1
			for p, s := range starts {
				if s <= c.Start {
					wantPage = p + 1
				}
			}
			if c.Page != wantPage {
				t.Fatalf("chunk %d at %d: page %d, want %d", i, c.Start, c.Page, wantPage)
			}
			if c.TokenCount <= 0 {
				t.Fatalf("chunk %d: %d tokens", i, c.TokenCount)
			}
			covered = max(covered, c.End)
		}
		if strings.TrimSpace(text[covered:]) != "" {
			t.Fatalf("%v: tail not chunked", sz)
		}
	}
}

func TestSplitterCutsBetweenSentences(t *testing.T) {
	// Hard-wrapped text whose pages (blank lines) break mid-sentence: every
	// chunk starts and ends with a whole sentence, whether it ends mid-line,
	// at a line end or in a closing quote.
	var sb strings.Builder
	for i := range 60 {
		switch i % 4 {
		case 0:
			sb.WriteString("The court held that the duty ran\nto the plaintiff. ")
		case 1:
			sb.WriteString("Breach is found where the care\n\nfell short.\n")
		case 2:
			sb.WriteString("Is harm foreseeable? ")
		default:
			sb.WriteString("It called this “the rule.” ")
		}
	}
	text := sb.String()
	chunks := Splitter{Size: 300, Overlap: 80}.Split(text, []int{0})
	if len(chunks) < len(text)/300 {
		t.Fatalf("only %d chunks", len(chunks))
	}
	for _, c := range chunks {
		if !strings.HasPrefix(c.Content, "The court") && !strings.HasPrefix(c.Content, "Breach") &&
			!strings.HasPrefix(c.Content, "Is harm") && !strings.HasPrefix(c.Content, "It called") {
			t.Fatalf("starts inside a sentence: %q", c.Content)
		}
		if !strings.HasSuffix(c.Content, "plaintiff.") && !strings.HasSuffix(c.Content, "short.") &&
			!strings.HasSuffix(c.Content, "foreseeable?") && !strings.HasSuffix(c.Content, "rule.”") {
			t.Fatalf("ends inside a sentence: %q", c.Content)
		}
	}
	long := strings.Repeat("The court held that the duty ran to the plaintiff. ", 40)
	for _, c := range (Splitter{Size: 200, Overlap: 60}).Split(long, []int{0}) {
		if !strings.HasPrefix(c.Content, "The court") || !strings.HasSuffix(c.Content, "plaintiff.") {
			t.Fatalf("cut inside a sentence: %q", c.Content)
		}
	}
}

func TestSplitterFallsBackToParagraphsThenLines(t *testing.T) {
	// No sentence ends at all (a table of contents, say): paragraphs, then
	// lines, are the cuts.
	para := strings.Repeat("Part One Chapter 2\n", 20) // 380 characters
	text := para + "\n" + para
	chunks := Splitter{Size: 500, Overlap: 0}.Split(text, []int{0})
	if len(chunks) != 2 || chunks[0].Content != strings.TrimSpace(para) {
		for _, c := range chunks {
			t.Logf("%q", c.Content)
		}
		t.Fatalf("paragraphs not kept whole: %d chunks", len(chunks))
	}
	for _, c := range (Splitter{Size: 100, Overlap: 0}).Split(para, []int{0}) {
		if !strings.HasPrefix(c.Content, "Part") || !strings.HasSuffix(c.Content, "2") {
			t.Fatalf("cut inside a line: %q", c.Content)
		}
	}
}

func TestCutAfterSentenceEnd(t *testing.T) {
	for seg, want := range map[string]int{
		"Held. Next":            6,
		"Held.\nNext":           6,
		"Held.  \n\n Next":      10,
		"Held?” Next":           len("Held?” "),
		"Held.) Next":           7,
		"3.5 percent. Next":     13,
		"No end":                -1,
		"End.":                  -1, // no whitespace follows: not yet known to end
		"42 U.S.C. § 1983 held": 10,
	} {
		if got := cutAfter(seg, sentenceEnd); got != want {
			t.Errorf("cutAfter(%q) = %d, want %d", seg, got, want)
		}
	}
}

func TestSplitterEmptyAndTiny(t *testing.T) {
	if got := (Splitter{Size: 1000, Overlap: 200}).Split("", []int{0}); len(got) != 0 {
		t.Errorf("empty text: %d chunks", len(got))
	}
	if got := (Splitter{Size: 1000, Overlap: 200}).Split(" \n\n  ", []int{0}); len(got) != 0 {
		t.Errorf("blank text: %d chunks", len(got))
	}
	got := Splitter{Size: 1000, Overlap: 200}.Split("  Marbury v. Madison  ", []int{0})
	if len(got) != 1 || got[0].Content != "Marbury v. Madison" || got[0].Page != 1 || got[0].TokenCount != 4 {
		t.Errorf("tiny text: %+v", got)
	}
}

func TestCountTokens(t *testing.T) {
	for s, want := range map[string]int{"": 0, "duty of care": 3, "42 U.S.C. § 1983.": 10, "plaintiff’s": 3} {
		if got := CountTokens(s); got != want {
			t.Errorf("CountTokens(%q) = %d, want %d", s, got, want)
		}
	}
}

func BenchmarkSplit(b *testing.B) {
	text := sampleText(rand.New(rand.NewPCG(3, 4)), 4<<20)
	s := Splitter{Size: 1000, Overlap: 200}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		s.Split(text, []int{0})
	}
}
