// Package pdftext reads the text of PDFs page by page with PDFium (Chrome's
// PDF engine) compiled to WebAssembly and run by wazero: pure Go, no cgo, and
// every document runs inside a sandbox with a memory cap and a deadline, so a
// hostile file fails its document, never the server. PDFium runs only while
// there is work: it starts with the first document and stops after a quiet
// minute.
package pdftext

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/klippa-app/go-pdfium"
	pdfiumerrors "github.com/klippa-app/go-pdfium/errors"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/webassembly"
	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// Errors, each with a message a professor understands.
var (
	ErrEncrypted  = errors.New("the file is encrypted: save it without a password and upload it again")
	ErrDamaged    = errors.New("the file is damaged: it is not a readable PDF")
	ErrTooComplex = errors.New("the file needs more memory to read than the server allows; it may be damaged or built to exhaust readers")
	ErrTimeout    = errors.New("reading the file took longer than the server allows")
	ErrTooMany    = errors.New("the PDF has more pages than the server accepts")
	// ErrUnavailable: PDFium did not start or has been shut down.
	ErrUnavailable = errors.New("the PDF reader is not available")
	// ErrBusy: every sandbox stayed busy (or PDFium was still starting)
	// until the caller's deadline; the file itself was not looked at.
	ErrBusy = errors.New("the server is busy reading other PDFs; try again in a minute")
	// ErrTooMuchText is a file that holds far more text than its size allows
	// (a form drawn within a form thousands of times): reading it is stopped
	// by the amount of text, long before its deadline. It is a kind of
	// ErrTooComplex, so callers that refuse one refuse the other.
	ErrTooMuchText error = tooMuchText{}
)

type tooMuchText struct{}

func (tooMuchText) Error() string {
	return "the file holds far more text than a file of its size can; it may be damaged or built to exhaust readers"
}
func (tooMuchText) Is(target error) bool { return target == ErrTooComplex }

// damaged is ErrDamaged with the part of the file that failed.
type damaged struct {
	msg   string
	cause error
}

func (d damaged) Error() string        { return d.msg }
func (d damaged) Is(target error) bool { return target == ErrDamaged }
func (d damaged) Unwrap() error        { return d.cause }

// Text budget. A page of the densest reading in the corpus holds 6,700
// characters and no reading holds more than 0.6 characters per byte of
// file (plain text set in a standard font and compressed may reach 3); a
// text bomb holds hundreds per byte, and PDFium spends 1-3 µs on each.
// Reading stops at MaxPageChars on one page, or at textBudget(size) in the
// whole file: a file small enough to be read whole at upload (128 KB) is
// judged within about a second, whatever it holds.
const (
	MaxPageChars = 100_000
	// budgetFloor lets small, plain files through whatever their ratio.
	budgetFloor   = 200_000
	budgetPerByte = 4
)

func textBudget(size int) int { return budgetFloor + budgetPerByte*size }

// Options configure an Extractor.
type Options struct {
	// CacheDir keeps wazero's compiled PDFium between runs: ~4 s to compile
	// cold, ~0.3 s from the cache. Empty means no cache.
	CacheDir string
	// Workers is how many documents are read at once (one sandbox each).
	Workers int
	// MemoryLimitMB caps each sandbox's memory. PDFium needs 18 MiB to start;
	// text of a 119-page opinion stays there.
	MemoryLimitMB int
	// IdleTimeout is how long PDFium stays up with nothing to read before
	// it stops and gives its memory back; the next document starts it
	// again (from CacheDir, a fraction of a second). Zero means
	// DefaultIdleTimeout; negative keeps it up until Close.
	IdleTimeout time.Duration
}

// DefaultIdleTimeout: an idle server holds no PDFium (tens of megabytes of
// compiled code and sandbox memory) a minute after its last document.
const DefaultIdleTimeout = time.Minute

// Extractor reads PDFs. PDFium starts when there is work (the first document
// waits for it) and stops after IdleTimeout with nothing to read.
type Extractor struct {
	o Options

	mu       sync.Mutex
	closed   bool
	rt       *reader       // nil while stopped
	starting chan struct{} // non-nil while a start runs; closed when it ends
	startErr error         // the last start's failure; nil after a success
	users    int           // callers holding or waiting for a sandbox
	gen      uint64        // bumped to cancel a pending idle stop
	starts   int64
	stops    int64
}

// reader is one running PDFium: its wazero runtime (inside the pool) and
// its compilation cache.
type reader struct {
	pool  pdfium.Pool
	cache wazero.CompilationCache
}

func (r *reader) close() error {
	err := r.pool.Close()
	if r.cache != nil {
		err = errors.Join(err, r.cache.Close(context.Background()))
	}
	return err
}

// New makes an Extractor; nothing starts until the first document.
func New(o Options) *Extractor {
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	return &Extractor{o: o}
}

func start(o Options) (pdfium.Pool, wazero.CompilationCache, error) {
	if o.Workers < 1 {
		o.Workers = 1
	}
	if o.MemoryLimitMB < 32 {
		o.MemoryLimitMB = 256
	}
	rc := wazero.NewRuntimeConfig().
		// go-pdfium's module uses wasm exception handling; a custom config
		// must say so or the module fails to load.
		WithCoreFeatures(api.CoreFeaturesV2 | experimental.CoreFeaturesExceptionHandling).
		WithMemoryLimitPages(uint32(o.MemoryLimitMB) * 16). // 64 KiB pages
		// Interrupting inside a call costs 3.5-4.5x on every page; text
		// calls are short, so the deadline is enforced between calls.
		WithCloseOnContextDone(false)
	var cache wazero.CompilationCache
	if o.CacheDir != "" {
		if err := os.MkdirAll(o.CacheDir, 0o750); err != nil {
			return nil, nil, fmt.Errorf("pdf reader cache: %w", err)
		}
		c, err := wazero.NewCompilationCacheWithDir(o.CacheDir)
		if err != nil {
			return nil, nil, fmt.Errorf("pdf reader cache: %w", err)
		}
		cache = c
		rc = rc.WithCompilationCache(c)
	}
	pool, err := webassembly.Init(webassembly.Config{
		MinIdle: 1, MaxIdle: o.Workers, MaxTotal: o.Workers,
		ReuseWorkers: true,
		// Mount nothing: by default PDFium would see the host's whole "/".
		FSConfig:      wazero.NewFSConfig(),
		RuntimeConfig: rc,
	})
	if err != nil {
		if cache != nil {
			cache.Close(context.Background())
		}
		return nil, nil, fmt.Errorf("start pdf reader: %w", err)
	}
	return pool, cache, nil
}

// Stats is what the Extractor holds now, for /metrics.
type Stats struct {
	Running bool  // PDFium is up (or starting)
	Busy    int   // callers holding or waiting for a sandbox
	Starts  int64 // PDFium starts since New
	Stops   int64 // idle stops since New
}

// Stats reports whether PDFium is up and how busy it is.
func (e *Extractor) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Stats{Running: e.rt != nil || e.starting != nil, Busy: e.users, Starts: e.starts, Stops: e.stops}
}

// Ready reports whether the reader can take work: true once a start has
// ended (or while it is stopped: the next document starts it), false while
// a start runs; the error is the last start's failure.
func (e *Extractor) Ready() (bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.starting != nil {
		return false, nil
	}
	return true, e.startErr
}

// WaitReady starts PDFium if it is stopped and waits until it is up (a first
// start compiles it for a few seconds) or ctx ends. Callers wait here before
// starting the clock on a file, so a cold start is not held against the file.
func (e *Extractor) WaitReady(ctx context.Context) error {
	if _, err := e.acquire(ctx); err != nil {
		return err
	}
	e.done()
	return nil
}

// acquire counts the caller as a user (no idle stop while it holds one) and
// returns the running reader, starting it if need be. On success the caller
// must call done.
func (e *Extractor) acquire(ctx context.Context) (*reader, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrUnavailable
	}
	e.users++
	e.gen++ // cancels a pending idle stop
	if e.rt != nil {
		rt := e.rt
		e.mu.Unlock()
		return rt, nil
	}
	if e.starting == nil {
		e.beginStart()
	}
	ch := e.starting
	e.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
		e.done()
		return nil, ErrBusy
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.closed:
		e.release()
		return nil, ErrUnavailable
	case e.rt == nil: // that start failed (no idle stop while we wait)
		err := e.startErr
		e.release()
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return e.rt, nil
}

// beginStart starts PDFium in the background; e.mu is held. The start runs
// to its end even when every waiter gives up: a compile abandoned half way
// would be paid again by the next document.
func (e *Extractor) beginStart() {
	ch := make(chan struct{})
	e.starting = ch
	go func() {
		pool, cache, err := start(e.o)
		e.mu.Lock()
		defer e.mu.Unlock()
		e.starting = nil
		defer close(ch)
		e.startErr = err
		if err != nil {
			return
		}
		rt := &reader{pool: pool, cache: cache}
		if e.closed {
			_ = rt.close() // closed while starting: nobody will use it
			return
		}
		e.rt = rt
		e.starts++
		e.armIdle()
	}()
}

// done ends a use begun by acquire.
func (e *Extractor) done() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.release()
}

// release drops one user and, with none left, arms the idle stop; e.mu is
// held.
func (e *Extractor) release() {
	e.users--
	e.armIdle()
}

func (e *Extractor) armIdle() {
	if e.users > 0 || e.rt == nil || e.closed || e.o.IdleTimeout < 0 {
		return
	}
	e.gen++
	gen := e.gen
	time.AfterFunc(e.o.IdleTimeout, func() { e.idleStop(gen) })
}

// idleStop stops PDFium when nothing used it since the timer was armed.
func (e *Extractor) idleStop(gen uint64) {
	e.mu.Lock()
	if gen != e.gen || e.users > 0 || e.rt == nil || e.closed {
		e.mu.Unlock()
		return
	}
	rt := e.rt
	e.rt = nil
	e.stops++
	e.mu.Unlock()
	_ = rt.close()
	// The sandboxes' memory is garbage now; hand it back to the system at
	// once rather than over the next minutes.
	debug.FreeOSMemory()
}

// Close stops PDFium. It does not wait for a start in progress (a shutdown
// must not wait seconds for a compile nobody needs); that start closes what
// it made when it finishes.
func (e *Extractor) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.gen++
	rt := e.rt
	e.rt = nil
	e.mu.Unlock()
	if rt == nil {
		return nil
	}
	return rt.close()
}

// session is one borrowed sandbox with a watchdog: when ctx ends, the
// sandbox is killed (its next call fails at once) and thrown away.
type session struct {
	e      *Extractor
	inst   pdfium.Pdfium
	ctx    context.Context
	stop   func() bool
	killed bool
}

func (e *Extractor) borrow(ctx context.Context) (*session, error) {
	if ctx.Err() != nil {
		return nil, ErrBusy // out of time before the file was looked at
	}
	rt, err := e.acquire(ctx)
	if err != nil {
		return nil, err
	}
	// The pool's own wait ignores ctx cancellation; poll it in short steps.
	var inst pdfium.Pdfium
	for {
		var err error
		inst, err = rt.pool.GetInstance(100 * time.Millisecond)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			e.done()
			return nil, ErrBusy
		}
		if !strings.Contains(err.Error(), "Timeout waiting for idle object") {
			e.done()
			if strings.Contains(err.Error(), "pool is closed") {
				return nil, ErrUnavailable
			}
			return nil, fmt.Errorf("pdf reader: %w", err)
		}
	}
	s := &session{e: e, inst: inst, ctx: ctx}
	s.stop = context.AfterFunc(ctx, func() { _ = inst.Kill() })
	return s, nil
}

// release returns a healthy sandbox to the pool; a killed one, or one that
// failed in a way we do not recognise (it may be in a bad state), is
// discarded and the pool makes a fresh one.
func (s *session) release(healthy bool) {
	defer s.e.done()
	if !s.stop() {
		return // the watchdog fired: the sandbox is gone already
	}
	if !healthy {
		_ = s.inst.Kill()
		return
	}
	_ = s.inst.Close()
}

func timeoutOr(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return ErrTimeout
	}
	return ctx.Err()
}

// classify turns PDFium's errors into ours. A failure after the deadline is
// the deadline's doing, whatever PDFium said.
func (s *session) classify(err error) error {
	switch {
	case err == nil:
		return nil
	case s.ctx.Err() != nil:
		return timeoutOr(s.ctx)
	case errors.Is(err, pdfiumerrors.ErrPassword), errors.Is(err, pdfiumerrors.ErrSecurity):
		return ErrEncrypted
	case errors.Is(err, pdfiumerrors.ErrFormat), errors.Is(err, pdfiumerrors.ErrFile):
		return ErrDamaged
	case errors.Is(err, ErrDamaged), err == ErrTooMuchText, errors.Is(err, ErrTooMany):
		return err // already a verdict on the file
	case errors.Is(err, pdfiumerrors.ErrPage):
		// A page PDFium counted but cannot load: its tree is a cycle,
		// names a missing object, or is not a tree at all.
		return damaged{msg: "the file is damaged: a page cannot be read (its page tree is broken)", cause: err}
	case strings.Contains(err.Error(), "could not allocate memory"), strings.Contains(err.Error(), "wasm error"):
		// PDFium ran out of its capped memory (it aborts: "unreachable")
		// or trapped: the same file would do the same again.
		return ErrTooComplex
	}
	return fmt.Errorf("pdf reader: %w", err)
}

// known reports whether err leaves the sandbox sound: success, or a verdict
// on the file. ErrTooComplex is not one: a sandbox that trapped or ran out
// of memory is thrown away.
func known(err error) bool {
	return err == nil || errors.Is(err, ErrEncrypted) || errors.Is(err, ErrDamaged) || errors.Is(err, ErrTooMany) || err == ErrTooMuchText
}

// PageCount opens a PDF and counts its pages: the structural check an
// upload gets before it is accepted.
func (e *Extractor) PageCount(ctx context.Context, data []byte) (int, error) {
	s, err := e.borrow(ctx)
	if err != nil {
		return 0, err
	}
	n, err := s.pageCount(data)
	err = s.classify(err)
	s.release(known(err))
	return n, err
}

func (s *session) pageCount(data []byte) (int, error) {
	doc, err := s.inst.OpenDocument(&requests.OpenDocument{File: &data})
	if err != nil {
		return 0, err
	}
	defer s.inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc.Document})
	pc, err := s.inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: doc.Document})
	if err != nil {
		return 0, err
	}
	return pc.PageCount, nil
}

// Extract returns the text of every page. It refuses documents of more than
// maxPages pages before reading any, and calls progress after each page.
func (e *Extractor) Extract(ctx context.Context, data []byte, maxPages int, progress func(done, total int)) ([]string, error) {
	s, err := e.borrow(ctx)
	if err != nil {
		return nil, err
	}
	pages, err := s.extract(data, maxPages, progress)
	err = s.classify(err)
	s.release(known(err))
	if err != nil {
		return nil, err
	}
	return pages, nil
}

func (s *session) extract(data []byte, maxPages int, progress func(done, total int)) ([]string, error) {
	doc, err := s.inst.OpenDocument(&requests.OpenDocument{File: &data})
	if err != nil {
		return nil, err
	}
	defer s.inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: doc.Document})
	pc, err := s.inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: doc.Document})
	if err != nil {
		return nil, err
	}
	if maxPages > 0 && pc.PageCount > maxPages {
		return nil, fmt.Errorf("%w (%d pages; the limit is %d)", ErrTooMany, pc.PageCount, maxPages)
	}
	if overExpanded(data) {
		return nil, ErrTooMuchText
	}
	out := make([]string, 0, pc.PageCount)
	budget := textBudget(len(data))
	for i := range pc.PageCount {
		if err := s.ctx.Err(); err != nil {
			return nil, err
		}
		text, err := s.pageText(doc.Document, i, &budget)
		if err == ErrTooMuchText {
			return nil, err
		}
		if errors.Is(err, pdfiumerrors.ErrPage) {
			return nil, damaged{msg: fmt.Sprintf("the file is damaged: page %d cannot be read (its page tree is broken)", i+1), cause: err}
		}
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", i+1, err)
		}
		out = append(out, text)
		if progress != nil {
			progress(i+1, pc.PageCount)
		}
	}
	return out, nil
}

// pageText is the page's text as PDFium orders it, with a space put back
// wherever PDFium ran two words together although the letters' boxes show a
// gap between them (justified text often has no space characters at all).
// The page's characters are taken from *budget before any is read.
func (s *session) pageText(doc references.FPDF_DOCUMENT, index int, budget *int) (string, error) {
	tp, err := s.inst.FPDFText_LoadPage(&requests.FPDFText_LoadPage{
		Page: requests.Page{ByIndex: &requests.PageByIndex{Document: doc, Index: index}}})
	if err != nil {
		return "", err
	}
	defer s.inst.FPDFText_ClosePage(&requests.FPDFText_ClosePage{TextPage: tp.TextPage})
	cc, err := s.inst.FPDFText_CountChars(&requests.FPDFText_CountChars{TextPage: tp.TextPage})
	if err != nil || cc.Count <= 0 {
		return "", err
	}
	*budget -= cc.Count
	if cc.Count > MaxPageChars || *budget < 0 {
		return "", ErrTooMuchText
	}
	t, err := s.inst.FPDFText_GetText(&requests.FPDFText_GetText{TextPage: tp.TextPage, StartIndex: 0, Count: cc.Count})
	if err != nil {
		return "", err
	}
	return s.respace(tp.TextPage, t.Text, cc.Count)
}

type box struct{ left, right, bottom, top float64 }

// respace walks the text with PDFium's character indexes (one per UTF-16
// unit) and inserts a space between two letters whose loose boxes sit on
// one line with a gap wider than 0.15 of their height. Loose boxes span the
// font's ascent to descent and its advance width; tight ink boxes would see
// gaps between many ordinary letters.
func (s *session) respace(tp references.FPDF_TEXTPAGE, text string, count int) (string, error) {
	var sb strings.Builder
	sb.Grow(len(text) + 16)
	idx := 0
	var prev rune
	var prevBox box
	havePrev := false
	for _, r := range text {
		if idx >= count {
			sb.WriteRune(r)
			continue
		}
		letter := unicode.IsLetter(r)
		if letter {
			b, err := s.inst.FPDFText_GetLooseCharBox(&requests.FPDFText_GetLooseCharBox{TextPage: tp, Index: idx})
			if err != nil {
				return "", err
			}
			cur := box{float64(b.Rect.Left), float64(b.Rect.Right), float64(b.Rect.Bottom), float64(b.Rect.Top)}
			if havePrev && unicode.IsLetter(prev) && gapBetween(prevBox, cur) {
				sb.WriteByte(' ')
			}
			prevBox, havePrev = cur, true
		} else {
			havePrev = false
		}
		prev = r
		sb.WriteRune(r)
		idx += max(1, utf16.RuneLen(r))
	}
	return sb.String(), nil
}

func gapBetween(a, b box) bool {
	ha, hb := a.top-a.bottom, b.top-b.bottom
	if ha <= 0 || hb <= 0 {
		return false
	}
	overlap := min(a.top, b.top) - max(a.bottom, b.bottom)
	return overlap > 0.5*min(ha, hb) && b.left-a.right > 0.15*max(ha, hb)
}
