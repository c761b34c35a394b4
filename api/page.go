package api

import (
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Page sizes of the listing endpoints (?pageSize=N).
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// Kinds of page token, so that a token of one listing is refused by
// another.
const (
	tokenUnits    = "units"
	tokenMachines = "machines"
	tokenStates   = "states"
)

// pageRequest is where a page starts and how long it is.
type pageRequest struct {
	size  int
	after string // the key of the last item of the previous page; "" for the first
}

// parsePage reads ?pageSize (def if absent) and ?nextPageToken for a
// listing of kind.
func parsePage(r *http.Request, kind string, def int) (pageRequest, error) {
	q := r.URL.Query()
	p := pageRequest{size: def}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			return p, errorf(http.StatusBadRequest, "pageSize %q: want a number from 1 to %d", v, MaxPageSize)
		}
		p.size = n
	}
	if tok := q.Get("nextPageToken"); tok != "" {
		after, err := decodeToken(tok, kind)
		if err != nil {
			return p, err
		}
		p.after = after
	}
	return p, nil
}

// encodeToken makes the opaque token of a page that follows key.
func encodeToken(kind, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + key))
}

// decodeToken reads a token made by encodeToken for the same kind.
func decodeToken(tok, kind string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	key, ok := strings.CutPrefix(string(raw), kind+":")
	if err != nil || !ok || key == "" || !utf8.ValidString(key) {
		return "", errorf(http.StatusBadRequest, "nextPageToken %q is not a token of this %s listing", tok, kind)
	}
	return key, nil
}

// pageOf sorts items by key and returns the page p asks for, with the
// token of the next page ("" when this is the last).
func pageOf[T any](items []T, key func(T) string, p pageRequest, kind string) ([]T, string) {
	sort.SliceStable(items, func(i, j int) bool { return key(items[i]) < key(items[j]) })
	start := 0
	if p.after != "" {
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > p.after })
	}
	end := min(start+p.size, len(items))
	page := items[start:end]
	if end == len(items) || len(page) == 0 {
		return page, ""
	}
	return page, encodeToken(kind, key(page[len(page)-1]))
}
