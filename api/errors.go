package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/fleetsim/fleet/registry"
)

// Error is an error answered by the server: the HTTP status code and a
// message naming the problem. The client returns server errors as
// *Error; test them with errors.As, IsNotFound or IsConflict.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`

	cause error // on the server: what the message was made of
}

// Error returns "api: <code> <status text>: <message>".
func (e *Error) Error() string {
	return fmt.Sprintf("api: %d %s: %s", e.Code, http.StatusText(e.Code), e.Message)
}

// Unwrap returns the error the server built the message from; nil for
// an error the client received.
func (e *Error) Unwrap() error { return e.cause }

// IsNotFound reports whether err is, or wraps, a 404 answer.
func IsNotFound(err error) bool { return hasCode(err, http.StatusNotFound) }

// IsConflict reports whether err is, or wraps, a 409 answer: a unit that
// exists with other content, or that does not exist and cannot be made
// from the request.
func IsConflict(err error) bool { return hasCode(err, http.StatusConflict) }

func hasCode(err error, code int) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}

// errorf builds the *Error a handler returns for a request it refuses;
// errors among args are wrapped with %w, as with fmt.Errorf.
func errorf(code int, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: code, Message: err.Error(), cause: err}
}

// asError turns what a handler returned into the answer to send: an
// *Error as it is, a write etcd refused for lack of space as a 507
// carrying the remedy, a write that kept losing to concurrent writes of
// the same unit as a 409, anything else (a backend failure) as a 500
// carrying the error's text.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	switch {
	case errors.Is(err, registry.ErrNoSpace):
		return &Error{Code: http.StatusInsufficientStorage, Message: err.Error(), cause: err}
	case errors.Is(err, registry.ErrConflict):
		return &Error{Code: http.StatusConflict, Message: err.Error(), cause: err}
	}
	return &Error{Code: http.StatusInternalServerError, Message: err.Error()}
}
