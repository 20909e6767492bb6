package roundrobin

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// dribble is a request body that arrives in pieces, as from a slow link.
type dribble struct {
	left  int
	piece int // bytes a Read gives at most; 0: as many as asked
	pause time.Duration
}

func (d *dribble) Read(p []byte) (int, error) {
	if d.left == 0 {
		return 0, io.EOF
	}
	time.Sleep(d.pause)
	n := min(len(p), d.left)
	if d.piece > 0 {
		n = min(n, d.piece)
	}
	for i := range n {
		p[i] = 'x'
	}
	d.left -= n
	return n, nil
}

// TestStreamOutlivesTheRequestBody: an answer streamed while its request's
// body is still on its way through the proxy arrives whole. The backend
// sends its headers first and reads the body after, as a server-sent
// stream may; streamed through, the proxy's server drained and closed the
// body on writing those headers, the Transport's next read of it failed,
// and it closed the connection to the backend mid-answer (the client saw
// "unexpected EOF"; golang/go#40747). Read whole first, it cannot happen.
func TestStreamOutlivesTheRequestBody(t *testing.T) {
	const size = 20_000
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		http.NewResponseController(w).Flush()
		n, err := io.Copy(io.Discard, r.Body)
		for i := range 5 {
			fmt.Fprintf(w, "event: delta\ndata: %d\n\n", i)
			http.NewResponseController(w).Flush()
			time.Sleep(5 * time.Millisecond)
		}
		fmt.Fprintf(w, "event: done\ndata: {\"read\":%d,\"err\":%q}\n\n", n, fmt.Sprint(err))
	}))
	defer backend.Close()
	p, err := New([]string{backend.URL}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	front := httptest.NewServer(p)
	defer front.Close()

	req, _ := http.NewRequest("POST", front.URL+"/stream", &dribble{left: size, piece: 1000, pause: 2 * time.Millisecond})
	req.ContentLength = size
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var last string
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "data: ") {
			last = sc.Text()
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("the stream was cut after %q: %v", last, err)
	}
	if want := fmt.Sprintf(`data: {"read":%d,"err":"<nil>"}`, size); last != want {
		t.Errorf("the stream ended with %q, want %q", last, want)
	}
}

// TestRoundRobin: requests go to each backend in turn, bodies arrive
// whole, modify sees each answer with its backend's index, and a body
// over the limit is refused with problem+json before any backend sees it.
func TestRoundRobin(t *testing.T) {
	var mu sync.Mutex
	var got []string
	backend := func(name string) *httptest.Server {
		return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			got = append(got, name+":"+string(b))
			mu.Unlock()
			w.Header().Set("X-Backend", name)
		}))
	}
	a, b := backend("a"), backend("b")
	defer a.Close()
	defer b.Close()
	seen := map[int]int{}
	p, err := New([]string{a.URL, b.URL}, nil, func(i int, res *http.Response) {
		mu.Lock()
		seen[i]++
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	p.maxBody = 1000
	front := httptest.NewServer(p)
	defer front.Close()
	for i := range 4 {
		res, err := http.Post(front.URL, "text/plain", strings.NewReader(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	if want := "a:0 b:1 a:2 b:3"; strings.Join(got, " ") != want {
		t.Errorf("the backends saw %q, want %q", strings.Join(got, " "), want)
	}
	if seen[0] != 2 || seen[1] != 2 {
		t.Errorf("modify saw %v, want 2 answers from each", seen)
	}

	req, _ := http.NewRequest("POST", front.URL, &dribble{left: 1001})
	req.ContentLength = 1001
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge || res.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(string(body), "at most 1000 bytes") {
		t.Errorf("a body over the limit: %d %s %s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	if len(got) != 4 {
		t.Errorf("a backend saw the refused request: %q", got)
	}
	if _, err := New(nil, nil, nil); err == nil {
		t.Error("New without backends: no error")
	}
}
