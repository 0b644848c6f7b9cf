//go:build !linux

package rawcap

// Raise does nothing where there are no Linux capabilities.
func Raise() (Result, error) { return Unsupported, nil }
