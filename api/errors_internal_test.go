package api

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/fleetsim/fleet/registry"
)

func TestBackendErrorsMapToStatusCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{fmt.Errorf("api: create unit a.service: %w", fmt.Errorf("%w: refused", registry.ErrNoSpace)), http.StatusInsufficientStorage},
		{fmt.Errorf("api: set unit a.service: %w", registry.ErrConflict), http.StatusConflict},
		{errors.New("etcd on fire"), http.StatusInternalServerError},
	} {
		e := asError(tc.err)
		if e.Code != tc.code || e.Message != tc.err.Error() {
			t.Errorf("asError(%v) = %d %q, want %d with the error's text", tc.err, e.Code, e.Message, tc.code)
		}
	}
}
