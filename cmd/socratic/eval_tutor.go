package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/lawtutor/socratic/internal/llm"
	"github.com/lawtutor/socratic/internal/retrieval"
	"github.com/lawtutor/socratic/internal/tutor"
)

const evalTutorUsage = "usage: socratic eval tutor [--dialogues FILE.jsonl] [--pdfs DIR] [--split dev|test|both] [--model offline|fake|both] [--min-question F] [--min-short F] [--min-quote F] [--min-case F] [--max-repeats N] [--show]"

// tutorDialogue is one scripted session: a student's turns over a week
// whose readings are the split's documents.
type tutorDialogue struct {
	ID    string         `json:"id"`
	Split string         `json:"split"` // dev or test: by document
	File  string         `json:"file"`  // the reading the student talks about
	Turns []dialogueTurn `json:"turns"`
}

type dialogueTurn struct {
	Student string `json:"student"`
	// Case is the case the student names, when they name one present in
	// the reading: the reply must quote a passage that names it.
	Case string `json:"case,omitempty"`
}

// The acceptance thresholds (issue 18): every reply ends on one question
// and is under 60 words; 95% quote a whole sentence of the reading with
// its title and page; no opener or quote repeats in a session; 80% of the
// turns naming a case quote a passage that names it.
const (
	tutorMinQuestion = 1.0
	tutorMinShort    = 1.0
	tutorMinQuote    = 0.95
	tutorMinCase     = 0.80
)

// sessionLimit and the clock of a scripted session: turns spread over
// the five minutes, the last in the final minute.
const sessionLimit = 5 * time.Minute

func turnClock(i, n int) tutor.Clock {
	first, last := 30*time.Second, 270*time.Second
	if n <= 1 {
		return tutor.Clock{Elapsed: first, Limit: sessionLimit}
	}
	return tutor.Clock{Elapsed: first + time.Duration(i)*(last-first)/time.Duration(n-1), Limit: sessionLimit}
}

// tutorOpening is the session's first line (one of internal/session's
// openings for a week without themes).
const tutorOpening = "Let's start with this week's readings. Which case or passage stayed with you, and why?"

// TutorScores are one run's figures.
type TutorScores struct {
	Mode, Split           string
	Dialogues, Replies    int
	OneQuestion, Short    int
	Quoted                int // a whole sentence of the reading, with its title and page
	Repeats               int // openers or quotes said twice in a session
	CaseTurns, CaseQuoted int
	// Moderated replies are moderation's redirect, not the tutor's: they
	// count for the question and length rules, not for quoting.
	Moderated int
	failures  []string
}

func (s TutorScores) share(n int) float64 { return float64(n) / float64(max(s.Replies, 1)) }

// quoteShare is over the tutor's own replies (moderation's redirects left
// out).
func (s TutorScores) quoteShare() float64 {
	return float64(s.Quoted) / float64(max(s.Replies-s.Moderated, 1))
}

func (s TutorScores) caseShare() float64 {
	if s.CaseTurns == 0 {
		return 1
	}
	return float64(s.CaseQuoted) / float64(s.CaseTurns)
}

// evalTutorCmd is `socratic eval tutor`: every scripted dialogue run
// through the real tutor (retrieval from a scratch week of the split's
// PDFs, tutor.Turn, the moderation gate), offline and with a fake model
// speaking Anthropic's wire format, each reply scored automatically.
func evalTutorCmd(ctx context.Context, args, environ []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval tutor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("dialogues", filepath.Join("testdata", "eval", "tutor-dialogues.jsonl"), "scripted dialogues: one {\"id\", \"split\", \"file\", \"turns\"} per line")
	pdfs := fs.String("pdfs", filepath.Join("testdata", "corpus", "pdfs"), "folder of the PDFs the dialogues name")
	split := fs.String("split", "both", "dev, test or both")
	mode := fs.String("model", "both", "offline (the tutor without a model), fake (a local fake of the Anthropic API) or both")
	minQuestion := fs.Float64("min-question", tutorMinQuestion, "least share of replies ending on exactly one question")
	minShort := fs.Float64("min-short", tutorMinShort, "least share of replies under 60 words")
	minQuote := fs.Float64("min-quote", tutorMinQuote, "least share of replies quoting a whole sentence of the reading with title and page")
	minCase := fs.Float64("min-case", tutorMinCase, "least share of case-naming turns whose reply quotes a passage naming the case")
	maxRepeats := fs.Int("max-repeats", 0, "most openers or quotes repeated within a session")
	show := fs.Bool("show", false, "print every dialogue with its replies, and the failures")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 0 || (*split != "dev" && *split != "test" && *split != "both") || (*mode != "offline" && *mode != "fake" && *mode != "both") {
		return errors.New(evalTutorUsage)
	}
	all, err := readDialogues(*path)
	if err != nil {
		return err
	}
	var failed []string
	for _, name := range []string{"dev", "test"} {
		if *split != name && *split != "both" {
			continue
		}
		var ds []tutorDialogue
		for _, d := range all {
			if d.Split == name {
				ds = append(ds, d)
			}
		}
		if len(ds) == 0 {
			return fmt.Errorf("%s: no dialogues in the %s split", *path, name)
		}
		var modes []string
		if *mode == "offline" || *mode == "both" {
			modes = append(modes, "offline")
		}
		if *mode == "fake" || *mode == "both" {
			modes = append(modes, "fake")
		}
		results, err := evalTutorSplit(ctx, environ, name, ds, *pdfs, modes, stdout, *show)
		if err != nil {
			return err
		}
		for _, s := range results {
			printTutorScores(stdout, s, tutorThresholds{*minQuestion, *minShort, *minQuote, *minCase, *maxRepeats}, *show)
			check := func(what string, got, min float64) {
				if got < min {
					failed = append(failed, fmt.Sprintf("%s %s: %s %.3f below %.2f", s.Mode, s.Split, what, got, min))
				}
			}
			check("one question", s.share(s.OneQuestion), *minQuestion)
			check("under 60 words", s.share(s.Short), *minShort)
			check("quotes a whole sentence with title and page", s.quoteShare(), *minQuote)
			check("case-naming turns quote it", s.caseShare(), *minCase)
			if s.Repeats > *maxRepeats {
				failed = append(failed, fmt.Sprintf("%s %s: %d repeated openers or quotes (at most %d)", s.Mode, s.Split, s.Repeats, *maxRepeats))
			}
		}
	}
	if len(failed) > 0 {
		return errors.New("the tutor is below its thresholds: " + strings.Join(failed, "; "))
	}
	return nil
}

func readDialogues(path string) ([]tutorDialogue, error) {
	return readJSONL(path, `{"id", "split": "dev"|"test", "file", "turns": [{"student"}]}`, func(d tutorDialogue) bool {
		return d.ID != "" && d.File != "" && len(d.Turns) > 0 && (d.Split == "dev" || d.Split == "test") && !strings.ContainsAny(d.File, `/\`)
	})
}

// readingChunk is a stored passage, normalised for matching quotes.
type readingChunk struct {
	title string
	page  int
	text  string // evalQuoteNorm'ed
}

// evalTutorSplit ingests the split's PDFs into one scratch week (a week
// with several readings: the tutor must say which one it quotes) and runs
// every dialogue in every mode.
func evalTutorSplit(ctx context.Context, environ []string, split string, ds []tutorDialogue, pdfDir string, modes []string, stdout io.Writer, show bool) ([]TutorScores, error) {
	scratch, err := os.MkdirTemp("", "socratic-eval-tutor-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)
	sw, err := openScratchWeek(ctx, scratch, environ)
	if err != nil {
		return nil, err
	}
	defer sw.close(ctx)
	var files []string
	seen := map[string]bool{}
	for _, d := range ds {
		if !seen[d.File] {
			seen[d.File] = true
			files = append(files, filepath.Join(pdfDir, d.File))
		}
	}
	if _, err := sw.ingest(ctx, files); err != nil {
		return nil, err
	}
	chunks, err := weekChunks(ctx, sw)
	if err != nil {
		return nil, err
	}
	search := retrieval.NewSearcher(nil, 0, nil)
	var out []TutorScores
	for _, mode := range modes {
		var model llm.Provider
		if mode == "fake" {
			fake, err := startFakeTutorModel()
			if err != nil {
				return nil, err
			}
			defer fake.Close()
			model, err = llm.NewAnthropic(llm.AnthropicOptions{APIKey: "eval-fake-key", BaseURL: fake.URL, Model: "claude-eval-fake", MaxRetries: 1})
			if err != nil {
				return nil, err
			}
		}
		tu := tutor.New(search, model).WithClassifier(nil, 0)
		s := TutorScores{Mode: mode, Split: split, Dialogues: len(ds)}
		for _, d := range ds {
			history := []llm.Message{{Role: llm.Assistant, Text: tutorOpening}}
			if show {
				fmt.Fprintf(stdout, "\n[%s %s] %s (%s)\n  tutor: %s\n", mode, split, d.ID, d.File, tutorOpening)
			}
			openers, quotes := map[string]bool{}, map[string]bool{}
			for i, t := range d.Turns {
				reply, err := tu.Turn(ctx, sw.d.db.Read, tutor.TurnInput{WeekID: sw.week.ID, Week: tutor.Week{Course: "Scratch", Number: 1},
					History: history, Student: t.Student, Clock: turnClock(i, len(d.Turns))})
				if err != nil {
					return nil, err
				}
				var text strings.Builder
				for ev := range reply.Events {
					if ev.Kind == llm.Delta {
						text.WriteString(ev.Text)
					}
					if ev.Err != nil {
						return nil, fmt.Errorf("%s turn %d: %w", d.ID, i+1, ev.Err)
					}
				}
				r := strings.TrimSpace(text.String())
				if show {
					fmt.Fprintf(stdout, "  student: %s\n  tutor: %s\n", t.Student, r)
				}
				fail := func(why string) {
					s.failures = append(s.failures, fmt.Sprintf("%s turn %d (%s): %s\n      %q", d.ID, i+1, mode, why, r))
				}
				s.Replies++
				if oneQuestion(r) {
					s.OneQuestion++
				} else {
					fail("not exactly one question at the end")
				}
				if n := len(strings.Fields(r)); n < 60 {
					s.Short++
				} else {
					fail(fmt.Sprintf("%d words", n))
				}
				quoted := quotedChunks(r, chunks)
				ok := len(quoted) > 0
				moderated := reply.Verdict != nil && reply.Verdict.Flagged
				switch {
				case moderated:
					s.Moderated++
					fail("moderation's redirect (not scored for quoting)")
				case ok:
					s.Quoted++
				default:
					fail("no whole sentence of the reading quoted with its title and page")
				}
				op, q := replyOpener(r), evalQuoteNorm(tutor.QuoteOf(r))
				if openers[op] || (q != "" && quotes[q]) {
					s.Repeats++
					fail("opener or quote said before in the session")
				}
				openers[op] = true
				if q != "" {
					quotes[q] = true
				}
				if t.Case != "" && !moderated && caseInReadings(t.Case, chunks) {
					s.CaseTurns++
					if slices.ContainsFunc(quoted, func(c readingChunk) bool { return namesCase(c.text, t.Case) }) {
						s.CaseQuoted++
					} else {
						fail("names " + t.Case + " but the reply quotes no passage naming it")
					}
				}
				history = append(history, llm.Message{Role: llm.User, Text: t.Student}, llm.Message{Role: llm.Assistant, Text: r})
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// tutorThresholds are a run's pass marks.
type tutorThresholds struct {
	question, short, quote, cases float64
	repeats                       int
}

func printTutorScores(w io.Writer, s TutorScores, min tutorThresholds, show bool) {
	fmt.Fprintf(w, "tutor (%s) on the %s split: %d dialogues, %d replies\n", s.Mode, s.Split, s.Dialogues, s.Replies)
	fmt.Fprintf(w, "  %-48s %6.3f  (at least %.2f)\n", "ends on exactly one question", s.share(s.OneQuestion), min.question)
	fmt.Fprintf(w, "  %-48s %6.3f  (at least %.2f)\n", "under 60 words", s.share(s.Short), min.short)
	fmt.Fprintf(w, "  %-48s %6.3f  (at least %.2f; %d replies were moderation's redirect, not scored)\n", "quotes a whole sentence, with title and page", s.quoteShare(), min.quote, s.Moderated)
	fmt.Fprintf(w, "  %-48s %6d  (at most %d)\n", "openers or quotes repeated in a session", s.Repeats, min.repeats)
	fmt.Fprintf(w, "  %-48s %6.3f  (at least %.2f; %d turns)\n", "case-naming turns quoting a passage naming it", s.caseShare(), min.cases, s.CaseTurns)
	if show {
		for _, f := range s.failures {
			fmt.Fprintf(w, "  fail: %s\n", f)
		}
	}
}

func weekChunks(ctx context.Context, sw *scratchWeek) ([]readingChunk, error) {
	rows, err := sw.d.db.Read.QueryContext(ctx, `SELECT d.original_filename, c.page, c.content FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.week_id = ?`, sw.week.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []readingChunk
	for rows.Next() {
		var c readingChunk
		var name string
		if err := rows.Scan(&name, &c.page, &c.text); err != nil {
			return nil, err
		}
		c.title, c.text = tutor.ReadingTitle(name), evalQuoteNorm(c.text)
		out = append(out, c)
	}
	return out, rows.Err()
}

// oneQuestion: the reply ends on a question mark and asks no other
// question outside its quotation.
func oneQuestion(r string) bool {
	outside := r
	if q := tutor.QuoteOf(r); q != "" {
		outside = strings.Replace(r, q, "", 1)
	}
	return strings.HasSuffix(r, "?") && strings.Count(outside, "?") == 1
}

// citedRe is how a reply names what it quotes: "In TITLE, page N: “".
var evalCitedRe = regexp.MustCompile(`In (.+?), page (\d+): “`)

// quotedChunk is the passage of the reading the reply quotes, when the
// reply names the reading by title and page and its quotation is a whole
// sentence of a passage on that page: it begins with a capital letter
// where a sentence begins (the passage's start, or after ". ", "? ", "! ",
// "; " or ": ") and ends on a full stop.
func quotedChunks(r string, chunks []readingChunk) []readingChunk {
	var out []readingChunk
	m := evalCitedRe.FindStringSubmatch(r)
	quote := tutor.QuoteOf(r)
	if m == nil || quote == "" {
		return nil
	}
	page, _ := strconv.Atoi(m[2])
	q := evalQuoteNorm(quote)
	first, _ := firstRune(strings.TrimLeft(strings.TrimSpace(quote), "‘'\"("))
	if !unicode.IsUpper(first) || !(strings.HasSuffix(strings.TrimRight(q, "'\")"), ".") || strings.HasSuffix(strings.TrimRight(q, "'\")"), "!")) || len(strings.Fields(q)) < 4 {
		return nil
	}
	for _, c := range chunks {
		if c.title != m[1] || c.page != page {
			continue
		}
		for from := 0; ; {
			i := strings.Index(c.text[from:], q)
			if i < 0 {
				break
			}
			at := from + i
			before := strings.TrimRight(c.text[:at], " ")
			if at == 0 || strings.HasSuffix(before, ".") || strings.HasSuffix(before, "?") || strings.HasSuffix(before, "!") ||
				strings.HasSuffix(before, ";") || strings.HasSuffix(before, ":") || strings.HasSuffix(before, ".'") || strings.HasSuffix(before, "?'") {
				out = append(out, c)
				break
			}
			from = at + 1
		}
	}
	return out
}

func firstRune(s string) (rune, bool) {
	for _, r := range s {
		return r, true
	}
	return 0, false
}

// footnoteMark is a footnote number glued to a word's punctuation
// ("question.4"): not part of the sentence, left out on both sides.
var footnoteMark = regexp.MustCompile(`([a-z][.,;:!?'")\]])\d{1,3}(\s|$)`)

// evalQuoteNorm compares a quote with the reading: evalNorm's cleanup,
// every quotation mark as a straight one, footnote marks left out.
func evalQuoteNorm(s string) string {
	s = strings.NewReplacer("‘", "'", "’", "'", "“", "'", "”", "'", "\"", "'").Replace(evalNorm(s))
	return footnoteMark.ReplaceAllString(s, "$1$2")
}

// replyOpener is what a reply opens with: its text up to the first end
// of a sentence, colon or quotation.
func replyOpener(r string) string {
	if i := strings.IndexAny(r, ".?!:“"); i >= 0 {
		r = r[:i]
	}
	return strings.ToLower(strings.Join(strings.Fields(r), " "))
}

// caseWords are the words that identify a case: the first party's last
// word and the second party's first, unless generic ("United States").
func caseWords(name string) []string {
	a, b, _ := strings.Cut(name, " v. ")
	var out []string
	for _, w := range []string{lastField(a), firstField(b)} {
		w = strings.ToLower(strings.Trim(w, ".,"))
		switch w {
		case "", "united", "states", "state", "people", "commissioner", "county", "city":
			continue
		}
		out = append(out, w)
	}
	return out
}

func lastField(s string) string {
	fs := strings.Fields(s)
	if len(fs) == 0 {
		return ""
	}
	return fs[len(fs)-1]
}

func firstField(s string) string {
	fs := strings.Fields(s)
	if len(fs) == 0 {
		return ""
	}
	return fs[0]
}

// namesCase: a normalised passage names the case (its identifying words
// on either side of a "v.").
func namesCase(text, name string) bool {
	ws := caseWords(name)
	if len(ws) == 0 {
		return false
	}
	a, b, _ := strings.Cut(strings.ToLower(name), " v. ")
	pat := regexp.QuoteMeta(strings.ToLower(lastField(a))) + `,? v\.? ` + regexp.QuoteMeta(strings.ToLower(firstField(b)))
	return regexp.MustCompile(`\b` + pat + `\b`).MatchString(text)
}

func caseInReadings(name string, chunks []readingChunk) bool {
	for _, c := range chunks {
		if namesCase(c.text, name) {
			return true
		}
	}
	return false
}

// startFakeTutorModel is a local fake of Anthropic's Messages API that
// answers like a tutor from what the prompt gives it: the passages of
// the turn's <readings> (their document and page) and the conversation.
// It is no language model: it measures that the model path carries the
// readings, the clock and the session to the model and its reply back
// to the student intact. The moderation classifier's calls get "safe".
func startFakeTutorModel() (*fakeTutorModel, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake model: %w", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(serveFakeTutor), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return &fakeTutorModel{URL: "http://" + ln.Addr().String(), srv: srv}, nil
}

type fakeTutorModel struct {
	URL string
	srv *http.Server
}

func (f *fakeTutorModel) Close() { f.srv.Close() }

var (
	fakePassageRe = regexp.MustCompile(`(?s)<passage n="\d+" document="([^"]*)" page="(\d+)">\n(.*?)\n</passage>`)
	fakeClockRe   = regexp.MustCompile(`Session clock: (\d+):(\d\d) of (\d+):(\d\d)\.`)
)

func serveFakeTutor(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		http.NotFound(w, r)
		return
	}
	var req struct {
		System []struct {
			Text string `json:"text"`
		} `json:"system"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(&req); err != nil || len(req.Messages) == 0 {
		w.Header().Set("content-type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"type":"error","error":{"type":"invalid_request_error","message":"fake: unreadable request"}}`)
		return
	}
	var system strings.Builder
	for _, b := range req.System {
		system.WriteString(b.Text + "\n")
	}
	var reply string
	if strings.Contains(system.String(), classifierPrompt) {
		reply = `{"safe": true, "categories": [], "explanation": "a question about the reading"}`
	} else {
		in := tutor.OfflineInput{}
		for _, m := range fakePassageRe.FindAllStringSubmatch(system.String(), -1) {
			page, _ := strconv.Atoi(m[2])
			in.Passages = append(in.Passages, retrieval.Source{Filename: unescapeReading(m[1]), Page: page, Content: unescapeReading(m[3])})
		}
		if c := fakeClockRe.FindStringSubmatch(system.String()); c != nil {
			in.Clock = tutor.Clock{Elapsed: minSec(c[1], c[2]), Limit: minSec(c[3], c[4])}
		}
		for i, m := range req.Messages {
			msg := llm.Message{Role: llm.Role(m.Role), Text: strings.TrimSpace(messageText(m.Content))}
			if i == len(req.Messages)-1 {
				in.Student = msg.Text
				break
			}
			in.History = append(in.History, msg)
		}
		reply = tutor.Offline(in).Text
	}
	w.Header().Set("request-id", "req_eval")
	w.Header().Set("content-type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	send := func(name, data string) {
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", name, data)
	}
	send("message_start", `{"type":"message_start","message":{"id":"msg_eval","type":"message","role":"assistant","content":[],"model":"claude-eval-fake","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1500,"output_tokens":1,"cache_creation_input_tokens":0,"cache_read_input_tokens":1200}}}`)
	send("content_block_start", `{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}`)
	words := strings.SplitAfter(reply, " ")
	for _, word := range words {
		b, _ := json.Marshal(word)
		send("content_block_delta", `{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":`+string(b)+`}}`)
	}
	send("content_block_stop", `{"type":"content_block_stop","index":0}`)
	send("message_delta", fmt.Sprintf(`{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":%d}}`, len(words)))
	send("message_stop", `{"type":"message_stop"}`)
}

// unescapeReading undoes the prompt's escaping of angle brackets.
func unescapeReading(s string) string { return strings.NewReplacer("‹", "<", "›", ">").Replace(s) }

func minSec(m, s string) time.Duration {
	mi, _ := strconv.Atoi(m)
	se, _ := strconv.Atoi(s)
	return time.Duration(mi)*time.Minute + time.Duration(se)*time.Second
}
