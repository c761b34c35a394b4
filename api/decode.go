package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
)

// readJSON decodes the request body into v, strictly: the Content-Type
// must be one of mediaTypes (else 415), the body at most s.opts.MaxBody
// bytes (else 413), and exactly one JSON value, opening with open ('{' or
// '['), with no field v does not have (else 400).
func (s *server) readJSON(w http.ResponseWriter, r *http.Request, v any, open byte, mediaTypes ...string) error {
	if err := checkContentType(r, mediaTypes); err != nil {
		return err
	}
	limit := s.opts.MaxBody
	if r.ContentLength > limit {
		return errorf(http.StatusRequestEntityTooLarge, "request body of %d bytes is larger than the limit of %d", r.ContentLength, limit)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errorf(http.StatusRequestEntityTooLarge, "request body is larger than the limit of %d bytes", limit)
	}
	if err != nil {
		return errorf(http.StatusBadRequest, "reading the request body: %w", err)
	}
	return decodeStrict(body, v, open)
}

// decodeStrict decodes exactly one JSON value opening with open into v,
// refusing fields that v does not have.
func decodeStrict(body []byte, v any, open byte) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return errorf(http.StatusBadRequest, "empty request body: want a JSON %s", kindOf(open))
	}
	if trimmed[0] != open {
		return errorf(http.StatusBadRequest, "invalid request body: want a JSON %s", kindOf(open))
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "invalid JSON in the request body: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(http.StatusBadRequest, "invalid request body: more than one JSON value")
	}
	return nil
}

func kindOf(open byte) string {
	if open == '[' {
		return "array"
	}
	return "object"
}

// checkContentType answers 415 unless the request's media type is one of
// want (with no charset, or charset utf-8).
func checkContentType(r *http.Request, want []string) error {
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return errorf(http.StatusUnsupportedMediaType, "Content-Type %q: want %s", ct, strings.Join(want, " or "))
	}
	ok := false
	for _, w := range want {
		ok = ok || mt == w
	}
	if !ok {
		return errorf(http.StatusUnsupportedMediaType, "Content-Type %q: want %s", ct, strings.Join(want, " or "))
	}
	if cs, set := params["charset"]; set && !strings.EqualFold(cs, "utf-8") {
		return errorf(http.StatusUnsupportedMediaType, "charset %q: want utf-8", cs)
	}
	return nil
}
