package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// streamWriter writes a plain-text answer as it is produced: the header
// goes out with the first byte, so that a failure before it is still
// answered as an error, and every write is flushed to the client. A
// failure after the first byte is reported in the ErrorTrailer.
type streamWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
	idle    time.Duration // when streaming: how long one write may take
}

func newStreamWriter(w http.ResponseWriter) *streamWriter {
	return &streamWriter{w: w, rc: http.NewResponseController(w)}
}

// start sends the header, once.
func (sw *streamWriter) start() error {
	if sw.started {
		return nil
	}
	sw.started = true
	h := sw.w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Trailer", ErrorTrailer)
	sw.w.WriteHeader(http.StatusOK)
	return sw.flush()
}

// Write sends p at once.
func (sw *streamWriter) Write(p []byte) (int, error) {
	if err := sw.start(); err != nil {
		return 0, err
	}
	if err := sw.deadline(); err != nil {
		return 0, fmt.Errorf("api: write answer: %w", err)
	}
	n, err := sw.w.Write(p)
	if err != nil {
		return n, fmt.Errorf("api: write answer: %w", err)
	}
	return n, sw.flush()
}

func (sw *streamWriter) flush() error {
	if err := sw.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return fmt.Errorf("api: flush answer: %w", err)
	}
	return nil
}

// end finishes the answer once its producer returned err. When the
// client went away (ctx ended) there is no one to tell. Before the first
// byte, err is returned for serve to answer (nil: an empty answer is
// sent). After it, the trailer carries err, which is also returned to be
// reported; a stream ended because the server stops (stopped) says so in
// the trailer.
func (sw *streamWriter) end(ctx context.Context, stopped func() bool, err error) error {
	// A stream may end after a silence longer than its idle limit: the
	// end of the answer gets its own time.
	if derr := sw.deadline(); derr != nil {
		err = errors.Join(err, fmt.Errorf("api: end answer: %w", derr))
	}
	switch {
	case ctx.Err() != nil:
		return nil
	case !sw.started && err == nil:
		return sw.start()
	case !sw.started:
		return err
	case stopped():
		sw.trailer(errorf(http.StatusServiceUnavailable, "fleetd is stopping: the stream ends"))
		return nil
	case err != nil:
		sw.trailer(asError(err))
		return err
	}
	return nil
}

// trailer sets the ErrorTrailer to e.
func (sw *streamWriter) trailer(e *Error) {
	b, err := json.Marshal(e)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"code":%d}`, e.Code))
	}
	sw.w.Header().Set(ErrorTrailer, string(b))
}

// trailerError returns the failure an answer's trailer reports, or nil.
func trailerError(trailer http.Header) error {
	v := trailer.Get(ErrorTrailer)
	if v == "" {
		return nil
	}
	var e Error
	if err := json.Unmarshal([]byte(v), &e); err != nil || e.Code == 0 {
		return &Error{Code: http.StatusBadGateway, Message: "the answer was cut short: " + v}
	}
	return &e
}
