package httpapi

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
)

// ProblemListener wraps ln so that the few refusals net/http writes by
// itself, before any handler runs (a malformed request line or header,
// headers over MaxHeaderBytes, a transfer coding or HTTP version it does not
// speak), reach the client as problem+json like every other refusal, not as
// net/http's plain text.
func ProblemListener(ln net.Listener) net.Listener { return problemListener{ln} }

type problemListener struct{ net.Listener }

func (l problemListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &problemConn{Conn: c}, nil
}

// problemConn rewrites net/http's own error answers on their way out.
// net/http writes each of them with one Write straight to the connection
// (its normal answers go through a buffer), in a form no answer of ours can
// take: Content-Type before Connection, where a handler's headers are sorted
// and carry X-Request-Id; so a Write that is exactly that form, whole, is one.
type problemConn struct{ net.Conn }

func (c *problemConn) Write(b []byte) (int, error) {
	if p, ok := rewriteRawError(b); ok {
		if _, err := c.Conn.Write(p); err != nil {
			return 0, err
		}
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// CloseWrite keeps net/http's half-close after a 431 (it looks for the
// method on the connection).
func (c *problemConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// ReadFrom keeps sendfile for downloads: bodies never need rewriting.
func (c *problemConn) ReadFrom(r io.Reader) (int64, error) { return io.Copy(c.Conn, r) }

// rawError is net/http's error answer: "HTTP/1.1 400 Bad Request[: text]",
// its two fixed headers, and a plain-text body (see conn.serve in
// net/http/server.go).
var rawError = regexp.MustCompile(`^HTTP/1\.1 (\d{3}) [A-Za-z ]+(?:: ([A-Za-z ]+))?\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n[A-Za-z0-9 :]*$`)

func rewriteRawError(b []byte) ([]byte, bool) {
	if len(b) > 512 {
		return nil, false
	}
	m := rawError.FindSubmatch(b)
	if m == nil {
		return nil, false
	}
	code, _ := strconv.Atoi(string(m[1]))
	body, err := json.Marshal(huma.NewError(code, rawDetail(code, string(m[2]))))
	if err != nil {
		return nil, false
	}
	return fmt.Appendf(nil, "HTTP/1.1 %d %s\r\nContent-Type: application/problem+json\r\nContent-Length: %d\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n%s",
		code, http.StatusText(code), len(body), body), true
}

func rawDetail(code int, text string) string {
	switch code {
	case http.StatusRequestHeaderFieldsTooLarge:
		return "the request's headers are larger than the server accepts"
	case http.StatusNotImplemented:
		return "the request uses a transfer encoding the server does not support"
	case http.StatusHTTPVersionNotSupported:
		return "unsupported protocol version: send HTTP/1.1"
	}
	if text != "" {
		return "malformed request: " + text
	}
	return "malformed request: the request line or a header is not valid HTTP/1.1"
}
