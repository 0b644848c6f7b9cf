package main

import (
	"os"
	"runtime/debug"
)

// storeGCPercent is the GOGC that `meshtop live` runs with unless GOGC or GOMEMLIMIT say
// otherwise. The live store is nearly all of the heap and lives for the whole session,
// while sweeps make a little garbage each: Go's default (100) would let the heap grow
// to twice the store before collecting, 4 GB of RSS for a 300-PoP mesh at --keep 360
// (2 GB of store). At 20 the process stays near 2.4 GB, and collecting stays cheap
// because the store's sample buffers hold no pointers (figures: bench/storerss).
const storeGCPercent = 20

func tuneGCForStore() {
	if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetGCPercent(storeGCPercent)
	}
}
