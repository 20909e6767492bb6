package session

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"testing"
	"time"
)

// BenchmarkSessionLife is a session as `socratic bench sessions` runs
// one, without HTTP: Start, eight turns (Begin and Run, on the offline
// tutor) and End with a small recording, on SQLite. ns/op is a whole
// session; ns/turn divides it by the turns, start and end included, as
// the bench's "server CPU per turn" does, and cpu-ns/turn is the
// process's CPU time (user and system, every goroutine: the Batcher's,
// the collector's) over the same turns. Run:
//
//	go test ./internal/session -run '^$' -bench SessionLife -benchtime 200x -count 6
func BenchmarkSessionLife(b *testing.B) {
	const turns = 8
	e := newEnv(b, nil)
	ctx := context.Background()
	// A professor's sessions count against no weekly quota.
	u := e.users["professor"]
	body, ctype := benchRecording(b, 64<<10)
	began, cpu := time.Now(), processCPU()
	for b.Loop() {
		st, err := e.svc.Start(ctx, u, e.week, "")
		if err != nil {
			b.Fatal(err)
		}
		for i := range turns {
			p, err := e.svc.Begin(ctx, u, st.Session.ID, fmt.Sprintf("Turn %d: is an acceptance by mail effective on dispatch?", i), fmt.Sprintf("m%d", i))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := p.Run(ctx, nil); err != nil {
				b.Fatal(err)
			}
		}
		res, err := e.svc.End(ctx, u, st.Session.ID, bytes.NewReader(body), ctype)
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Transcript) != 1+2*turns || !res.Session.HasAudio() {
			b.Fatalf("ended with %d turns (want %d), recording %v", len(res.Transcript), 1+2*turns, res.Session.HasAudio())
		}
	}
	b.ReportMetric(float64(time.Since(began).Nanoseconds())/float64(b.N*turns), "ns/turn")
	if used := processCPU() - cpu; used > 0 {
		b.ReportMetric(float64(used.Nanoseconds())/float64(b.N*turns), "cpu-ns/turn")
	}
}

// benchRecording is a multipart body with a WAV recording of size bytes.
func benchRecording(b *testing.B, size int) ([]byte, string) {
	wav := make([]byte, size)
	copy(wav, "RIFF")
	copy(wav[8:], "WAVEfmt ")
	for i := 44; i < size; i++ {
		wav[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	part, err := mw.CreateFormFile("audio", "session.wav")
	if err != nil {
		b.Fatal(err)
	}
	part.Write(wav)
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}
