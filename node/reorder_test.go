package node

import (
	"slices"
	"testing"
)

func TestReorder(t *testing.T) {
	r := NewRegistry()
	for _, n := range []string{"C", "A", "D", "B"} {
		r.Register(&Def{Spec: Spec{Name: n}, New: func() Node { return nil }})
	}
	r.Reorder([]string{"A", "missing", "B", "A"})
	if got, want := r.Names(), []string{"A", "B", "C", "D"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
}
