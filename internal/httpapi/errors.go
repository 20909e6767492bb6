package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
	"github.com/lawtutor/socratic/internal/errs"
)

func init() {
	// Huma builds every error body through NewError: validation failures,
	// oversized bodies, and the errors our handlers return via problem.
	// This version never echoes a submitted value (it may be a password)
	// and never shows the text of an internal error.
	huma.NewError = func(status int, msg string, errList ...error) huma.StatusError {
		if msg == "" {
			msg = http.StatusText(status)
		}
		m := &huma.ErrorModel{Status: status, Title: http.StatusText(status), Detail: msg}
		for _, e := range errList {
			var d *huma.ErrorDetail
			var dd huma.ErrorDetailer
			switch {
			case errors.As(e, &dd):
				d = dd.ErrorDetail()
			case status < 500:
				d = &huma.ErrorDetail{Message: e.Error()}
			default:
				continue
			}
			m.Errors = append(m.Errors, &huma.ErrorDetail{Message: d.Message, Location: d.Location})
		}
		return m
	}
}

// statusOf is the one mapping from a domain error code to an HTTP status.
func statusOf(c errs.Code) int {
	switch c {
	case errs.Invalid:
		return http.StatusUnprocessableEntity
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.Unauthorized:
		return http.StatusUnauthorized
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.TooMany:
		return http.StatusTooManyRequests
	case errs.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errs.Unsupported:
		return http.StatusUnsupportedMediaType
	case errs.Unavailable:
		return http.StatusServiceUnavailable
	case errs.NotImplemented:
		return http.StatusNotImplemented
	case errs.InsufficientStorage:
		return http.StatusInsufficientStorage
	default:
		return http.StatusInternalServerError
	}
}

// problem turns any error a handler returns into the problem+json error huma
// writes. Domain errors keep their safe message; anything else is logged once,
// here, with the request id, and the client sees only "internal error".
func (s *Server) problem(ctx context.Context, err error) error {
	var e *errs.Error
	if !errors.As(err, &e) {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			// The client went away; nobody reads this answer.
			return huma.NewError(http.StatusServiceUnavailable, "request cancelled")
		}
		if s.db != nil && s.db.Disk.Saw(err) {
			// Said once in the log by Disk; each request is not news.
			e = errDiskFull
		} else {
			s.log.ErrorContext(ctx, "internal error", "err", err, "request_id", requestID(ctx))
			return huma.NewError(http.StatusInternalServerError, "internal error")
		}
	}
	status := statusOf(e.Code)
	details := make([]error, 0, len(e.Fields))
	for _, f := range e.Fields {
		details = append(details, &huma.ErrorDetail{Message: f.Message, Location: "body." + f.Field})
	}
	se := huma.NewError(status, e.Message, details...)
	h := http.Header{}
	if e.RetryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(retrySeconds(e.RetryAfter.Seconds())))
	}
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Bearer realm="socratic"`)
	}
	if len(h) > 0 {
		return huma.ErrorWithHeaders(se, h)
	}
	return se
}

// errDiskFull answers any write that failed on a full disk and has no
// more particular answer (an upload's and a turn's are their packages').
var errDiskFull = errs.New(errs.InsufficientStorage, "the server's disk is full, so this change was not saved; ask the server's administrator to free space, then try again")

func retrySeconds(s float64) int {
	n := int(s)
	if float64(n) < s {
		n++
	}
	return max(n, 1)
}

// writeHumaError writes err (after problem) from inside a huma middleware.
func (s *Server) writeHumaError(ctx huma.Context, err error) {
	err = s.problem(ctx.Context(), err)
	var he huma.HeadersError
	if errors.As(err, &he) {
		for k, vs := range he.GetHeaders() {
			for _, v := range vs {
				ctx.AppendHeader(k, v)
			}
		}
	}
	var se huma.StatusError
	if !errors.As(err, &se) {
		se = huma.NewError(http.StatusInternalServerError, "internal error")
	}
	ctx.SetHeader("Content-Type", "application/problem+json")
	ctx.SetStatus(se.GetStatus())
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(se)
}

// writeProblem writes a problem+json answer from plain net/http code (the
// middleware that runs outside huma).
func writeProblem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(huma.NewError(status, detail))
}

// logError logs a failure with the request id it belongs to.
func (s *Server) logError(ctx context.Context, msg string, err error) {
	s.log.LogAttrs(ctx, slog.LevelError, msg, slog.Any("err", err), slog.String("request_id", requestID(ctx)))
}
