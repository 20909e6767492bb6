package pdftext

import (
	"context"
	"errors"
	"testing"
	"time"
)

// FuzzExtract: whatever the bytes, reading them ends in text or in a
// verdict on the file, never in an error the server cannot explain to the
// uploader (that would be a 500). Plain `go test` runs only the seeds;
// `go test -fuzz FuzzExtract ./internal/pdftext` explores.
func FuzzExtract(f *testing.F) {
	for _, seed := range []string{
		"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [2 0 R] /Count 1 >>\nendobj\ntrailer\n<< /Size 3 /Root 1 0 R >>\n%%EOF\n",
		"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\ntrailer\n<< /Size 4 /Root 1 0 R >>\n%%EOF\n",
		"%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>\nendobj\n4 0 obj\n<< /Length 44 >>\nstream\nBT /F1 12 Tf 72 720 Td (Duty of care.) Tj ET\nendstream\nendobj\n5 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\ntrailer\n<< /Size 6 /Root 1 0 R >>\n%%EOF\n",
		"%PDF-1.7\n%%EOF\n",
	} {
		f.Add([]byte(seed))
	}
	e := extractor(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := e.Extract(ctx, data, 50, nil)
		switch {
		case err == nil, errors.Is(err, ErrDamaged), errors.Is(err, ErrEncrypted), errors.Is(err, ErrTooComplex),
			errors.Is(err, ErrTooMany), errors.Is(err, ErrTimeout):
		default:
			t.Fatalf("%q: an error that is no verdict on the file: %v", data, err)
		}
	})
}
