package httpapi

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestProblemListenerLeavesAnswersAlone: an answer of ours whose body is
// exactly what net/http writes for a bad request (a download could hold
// anything) goes out untouched, large or small.
func TestProblemListenerLeavesAnswersAlone(t *testing.T) {
	raw := "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n400 Bad Request"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			io.WriteString(w, strings.Repeat("x", 8<<10)) // past net/http's buffer: later writes go straight out
			w.(http.Flusher).Flush()
		}
		io.WriteString(w, raw)
	})}
	go srv.Serve(ProblemListener(ln))
	defer srv.Close()
	for _, path := range []string{"/small", "/big"} {
		res, err := http.Get("http://" + ln.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasSuffix(string(body), raw) {
			t.Errorf("%s: %d %q", path, res.StatusCode, body[max(0, len(body)-200):])
		}
	}
}
