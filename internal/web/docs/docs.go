// Package docs holds the API reference page's files, embedded in the
// binary so /docs renders with no network: Swagger UI's built bundle and
// stylesheet (vendored, gzipped, by scripts/update-docs-ui; see VERSION and
// LICENSE.swagger-ui) and the two small files of our own that start it.
package docs

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html"
	"io"
	"path"
	"sort"
	"strings"
	"sync"
)

//go:embed swagger-ui-bundle.js.gz swagger-ui.css.gz docs-init.js docs.css VERSION
var files embed.FS

// Asset is one file the page loads.
type Asset struct {
	Name        string
	ContentType string
	Gzip        []byte // the file, gzip-compressed
	plain       *plainOnce
}

// plainOnce holds an asset's uncompressed bytes, made on first use: the
// route needs no sign-in, so inflating the 1.7 MB bundle per request
// would be free work for anyone to ask for.
type plainOnce struct {
	once sync.Once
	b    []byte
	err  error
}

// Plain returns the file uncompressed (for the rare client that does not
// accept gzip), inflated once per process.
func (a Asset) Plain() ([]byte, error) {
	if a.plain == nil {
		return inflate(a.Gzip)
	}
	a.plain.once.Do(func() { a.plain.b, a.plain.err = inflate(a.Gzip) })
	return a.plain.b, a.plain.err
}

func inflate(gz []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

var (
	assets = map[string]Asset{}
	// Version names this set of files in their URLs (a hash of their
	// contents), so they can be cached for good: new files, new URLs.
	Version string
	// UIVersion is the vendored Swagger UI release.
	UIVersion string
)

func init() {
	v, err := files.ReadFile("VERSION")
	if err != nil {
		panic(err)
	}
	UIVersion = strings.TrimSpace(string(v))
	h := sha256.New()
	names := []string{"swagger-ui-bundle.js.gz", "swagger-ui.css.gz", "docs-init.js", "docs.css"}
	sort.Strings(names)
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			panic(err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
		name := strings.TrimSuffix(n, ".gz")
		if !strings.HasSuffix(n, ".gz") {
			var z bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
			zw.Write(b)
			zw.Close()
			b = z.Bytes()
		}
		assets[name] = Asset{Name: name, ContentType: contentType(name), Gzip: b, plain: &plainOnce{}}
	}
	Version = hex.EncodeToString(h.Sum(nil))[:12]
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	}
	panic("docs: no content type for " + name)
}

// Lookup returns the named asset of this version.
func Lookup(version, name string) (Asset, bool) {
	if version != Version {
		return Asset{}, false
	}
	a, ok := assets[name]
	return a, ok
}

// Page is the reference page: it loads only this package's files, from
// base (where the server mounts them), and the description at specURL.
func Page(base, specURL, title string) []byte {
	u := func(name string) string { return base + "/" + Version + "/" + name }
	return fmt.Appendf(nil, `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="referrer" content="no-referrer">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>%[1]s — API reference</title>
    <link rel="stylesheet" href="%[2]s">
    <link rel="stylesheet" href="%[3]s">
  </head>
  <body>
    <header class="docs-header">%[1]s — API reference · <a href="%[6]s">OpenAPI description</a></header>
    <div id="swagger-ui" data-spec-url="%[6]s"></div>
    <script src="%[4]s"></script>
    <script src="%[5]s"></script>
  </body>
</html>
`, html.EscapeString(title), u("swagger-ui.css"), u("docs.css"), u("swagger-ui-bundle.js"), u("docs-init.js"), specURL)
}
