package yamlx

import (
	"fmt"
	"io"
	"os"
)

// ReadFile reads a YAML file of at most max bytes (config, inventory, lab): a larger one
// is refused as not being what it claims (what: "an inventory", "a config file") rather
// than read whole. A pipe is fine (--config <(...)).
func ReadFile(path string, max int, what string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, &os.PathError{Op: "read", Path: path, Err: err}
	}
	if len(b) > max {
		return nil, fmt.Errorf("%s is larger than %s: not %s", path, size(max), what)
	}
	return b, nil
}

func size(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d KiB", n>>10)
}
