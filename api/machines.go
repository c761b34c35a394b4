package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/fleetsim/fleet/registry"
)

// MachinePager is a MachineStore that reads one page of machines at the
// cost of its length (*registry.Etcd is one); GET /machines uses it
// when the Backend is one, and reads every machine for each page if not.
type MachinePager interface {
	// MachinesAfter returns up to n machines whose IDs sort after from,
	// the ID the next page starts after, and whether more follow.
	MachinesAfter(ctx context.Context, from string, n int) ([]registry.Machine, string, bool, error)
}

// listMachines answers GET /machines: a page of machines sorted by ID.
func (s *server) listMachines(w http.ResponseWriter, r *http.Request) error {
	p, err := parsePage(r, tokenMachines, s.opts.PageSize)
	if err != nil {
		return err
	}
	var (
		page []registry.Machine
		next string
	)
	if pager, ok := s.b.(MachinePager); ok {
		ms, last, more, err := pager.MachinesAfter(r.Context(), p.after, p.size)
		if err != nil {
			return fmt.Errorf("api: list machines: %w", err)
		}
		if page = ms; more {
			next = encodeToken(tokenMachines, last)
		}
	} else {
		ms, err := s.b.Machines(r.Context())
		if err != nil {
			return fmt.Errorf("api: list machines: %w", err)
		}
		page, next = pageOf(ms, func(m registry.Machine) string { return m.ID }, p, tokenMachines)
	}
	out := make([]Machine, 0, len(page))
	for _, m := range page {
		md := make(map[string]string, len(m.Metadata))
		for k, v := range m.Metadata {
			md[k] = v
		}
		out = append(out, Machine{ID: m.ID, PrimaryIP: m.PublicIP, Metadata: md})
	}
	return writeJSON(w, http.StatusOK, MachinePage{Machines: out, NextPageToken: next})
}

// metadataOp is a checked MachineOp.
type metadataOp struct {
	remove       bool
	machine, key string
	value        string
}

// patchMachines answers PATCH /machines: a JSON Patch whose operations
// add, replace or remove machine metadata. Every operation is checked
// before the first is applied; add and replace need a machine that is
// registered, remove does not (it may clean up after a machine gone).
func (s *server) patchMachines(w http.ResponseWriter, r *http.Request) error {
	var ops []MachineOp
	if err := s.readJSON(w, r, &ops, '[', "application/json", "application/json-patch+json"); err != nil {
		return err
	}
	checked := make([]metadataOp, 0, len(ops))
	for i, op := range ops {
		c, err := checkMachineOp(op)
		if err != nil {
			return errorf(http.StatusBadRequest, "operation %d: %w", i, err)
		}
		checked = append(checked, c)
	}
	if err := s.checkMachinesKnown(r, checked); err != nil {
		return err
	}
	for _, c := range checked {
		if err := s.applyMetadataOp(r, c); err != nil {
			return err
		}
	}
	return writeEmpty(w, http.StatusNoContent)
}

// checkMachineOp checks one operation's op, path and value.
func checkMachineOp(op MachineOp) (metadataOp, error) {
	var c metadataOp
	switch op.Op {
	case "add", "replace":
		if op.Value == "" {
			return c, fmt.Errorf("%s needs a non-empty value", op.Op)
		}
	case "remove":
		if op.Value != "" {
			return c, errors.New("remove takes no value")
		}
		c.remove = true
	default:
		return c, fmt.Errorf("op %q: want add, replace or remove", op.Op)
	}
	if strings.ContainsFunc(op.Value, isControl) {
		return c, fmt.Errorf("value %q holds a control character", op.Value)
	}
	parts := strings.Split(op.Path, "/")
	if len(parts) != 4 || parts[0] != "" || parts[2] != "metadata" {
		return c, fmt.Errorf("path %q: want /<machineID>/metadata/<key>", op.Path)
	}
	c.machine, c.key, c.value = parts[1], parts[3], op.Value
	if c.machine == "" || strings.ContainsFunc(c.machine, isControl) || strings.Contains(c.machine, "~") {
		return c, fmt.Errorf("path %q: bad machine ID %q", op.Path, c.machine)
	}
	if !validMetadataKey(c.key) {
		return c, fmt.Errorf("path %q: metadata key %q: want letters, digits, '_', '.' or '-'", op.Path, c.key)
	}
	return c, nil
}

// validMetadataKey reports whether key can be named by a MachineMetadata
// requirement: no operator characters, no space, no '/'.
func validMetadataKey(key string) bool {
	if key == "" {
		return false
	}
	for _, c := range key {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// checkMachinesKnown refuses add and replace on machines not registered.
func (s *server) checkMachinesKnown(r *http.Request, ops []metadataOp) error {
	need := false
	for _, c := range ops {
		need = need || !c.remove
	}
	if !need {
		return nil
	}
	ms, err := s.b.Machines(r.Context())
	if err != nil {
		return fmt.Errorf("api: list machines: %w", err)
	}
	known := make(map[string]bool, len(ms))
	for _, m := range ms {
		known[m.ID] = true
	}
	for i, c := range ops {
		if !c.remove && !known[c.machine] {
			return errorf(http.StatusBadRequest, "operation %d: no machine %s in the cluster", i, c.machine)
		}
	}
	return nil
}

func (s *server) applyMetadataOp(r *http.Request, c metadataOp) error {
	if c.remove {
		if err := s.b.DeleteMetadata(r.Context(), c.machine, c.key); err != nil {
			return fmt.Errorf("api: remove metadata %s of machine %s: %w", c.key, c.machine, err)
		}
		return nil
	}
	if err := s.b.SetMetadata(r.Context(), c.machine, c.key, c.value); err != nil {
		return fmt.Errorf("api: set metadata %s of machine %s: %w", c.key, c.machine, err)
	}
	return nil
}
