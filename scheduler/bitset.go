package scheduler

import "math/bits"

// bitset is a set of machine positions, one bit each.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int32)      { b[i>>6] |= 1 << (uint(i) & 63) }
func (b bitset) clear(i int32)    { b[i>>6] &^= 1 << (uint(i) & 63) }
func (b bitset) has(i int32) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }

// next returns the first position >= from that is set, or -1.
func (b bitset) next(from int32) int32 {
	w := int(from >> 6)
	if w >= len(b) {
		return -1
	}
	word := b[w] &^ (1<<(uint(from)&63) - 1)
	for {
		if word != 0 {
			return int32(w<<6 + bits.TrailingZeros64(word))
		}
		w++
		if w == len(b) {
			return -1
		}
		word = b[w]
	}
}

// loadIndex orders alive machines by (load, position): bucket L holds the
// machines with L placements, as a bitset, so the least-loaded machine in
// a candidate set is found by ANDing words.
type loadIndex struct {
	load    []int32
	buckets []bitset
	size    []int32 // machines in each bucket, so empty ones are skipped
	words   int
}

func newLoadIndex(n int) *loadIndex {
	return &loadIndex{load: make([]int32, n), words: (n + 63) / 64}
}

func (li *loadIndex) bucket(l int32) bitset {
	for int(l) >= len(li.buckets) {
		li.buckets = append(li.buckets, make(bitset, li.words))
		li.size = append(li.size, 0)
	}
	return li.buckets[l]
}

// add makes machine m a candidate, with its current load.
func (li *loadIndex) add(m int32) {
	li.bucket(li.load[m]).set(m)
	li.size[li.load[m]]++
}

// shift changes machine m's load by d (only for machines added).
func (li *loadIndex) shift(m int32, d int32) {
	li.bucket(li.load[m]).clear(m)
	li.size[li.load[m]]--
	li.load[m] += d
	li.bucket(li.load[m]).set(m)
	li.size[li.load[m]]++
}
