package api

import (
	"net/http"
	"strings"
)

// Discovery is the document GET /discovery answers: a minimal Google API
// discovery document (fleet served one), built from the routes served so
// that it cannot drift from them.
type Discovery struct {
	Kind             string                       `json:"kind"`
	DiscoveryVersion string                       `json:"discoveryVersion"`
	ID               string                       `json:"id"`
	Name             string                       `json:"name"`
	Version          string                       `json:"version"`
	Title            string                       `json:"title"`
	Protocol         string                       `json:"protocol"`
	BasePath         string                       `json:"basePath"`
	Resources        map[string]DiscoveryResource `json:"resources"`
}

// DiscoveryResource is one resource of the API and its methods, by name.
type DiscoveryResource struct {
	Methods map[string]DiscoveryMethod `json:"methods"`
}

// DiscoveryMethod is one method: its ID, HTTP method, path (relative to
// BasePath, with {name} for the unit name) and what it does.
type DiscoveryMethod struct {
	ID          string `json:"id"`
	HTTPMethod  string `json:"httpMethod"`
	Path        string `json:"path"`
	Description string `json:"description"`
}

// discovery answers GET /discovery.
func (s *server) discovery(w http.ResponseWriter, _ *http.Request) error {
	return writeJSON(w, http.StatusOK, s.discoveryDoc())
}

func (s *server) discoveryDoc() Discovery {
	d := Discovery{
		Kind:             "discovery#restDescription",
		DiscoveryVersion: "v1",
		ID:               "fleet:v1",
		Name:             "fleet",
		Version:          "v1",
		Title:            "fleet API",
		Protocol:         "rest",
		BasePath:         BasePath + "/",
		Resources:        map[string]DiscoveryResource{},
	}
	for _, rt := range s.routes() {
		for _, m := range rt.methods {
			// IDs are "fleet.<Resource>.<Method>".
			parts := strings.Split(m.id, ".")
			res, ok := d.Resources[parts[1]]
			if !ok {
				res = DiscoveryResource{Methods: map[string]DiscoveryMethod{}}
				d.Resources[parts[1]] = res
			}
			res.Methods[parts[2]] = DiscoveryMethod{
				ID:          m.id,
				HTTPMethod:  m.verb,
				Path:        strings.TrimPrefix(rt.path, "/"),
				Description: m.desc,
			}
		}
	}
	return d
}
