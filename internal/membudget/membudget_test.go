package membudget

import (
	"errors"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	b := &Budget{Limit: 100 << 10}
	data, held, tooLarge, err := Read(strings.NewReader(strings.Repeat("x", 50<<10)), 1<<20, 32<<10, b)
	if err != nil || tooLarge || len(data) != 50<<10 || held != 50<<10 || b.Held() != held {
		t.Fatalf("read %d held %d/%d tooLarge %v err %v", len(data), held, b.Held(), tooLarge, err)
	}
	// A second read beyond the budget is refused, holding nothing more than it had read.
	_, held2, _, err := Read(strings.NewReader(strings.Repeat("x", 80<<10)), 1<<20, 32<<10, b)
	if !errors.Is(err, ErrExhausted) || b.Held() != held+held2 {
		t.Fatalf("err %v, held %d", err, b.Held())
	}
	b.Give(held + held2)
	_, held, tooLarge, err = Read(strings.NewReader(strings.Repeat("x", 50<<10)), 40<<10, 32<<10, b)
	if err != nil || !tooLarge {
		t.Fatalf("over the cap: tooLarge %v err %v", tooLarge, err)
	}
	b.Give(held)
	if b.Held() != 0 {
		t.Fatalf("%d bytes still held", b.Held())
	}
}
