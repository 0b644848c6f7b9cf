package mesh

import "flag"

var (
	benchPopsFlag   = flag.Int("pops", 20, "PoPs for TestStoreBytesPerSample")
	benchSweepsFlag = flag.Int("sweeps", 60, "sweeps kept for TestStoreBytesPerSample")
)
