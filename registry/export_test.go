package registry

// Loaded reports whether the listing holds a copy (tests only).
func (l *Listing) Loaded() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.d != nil
}
