//go:build !(linux || darwin || freebsd || openbsd || dragonfly)

package main

import "errors"

// freeBytes is not known on this system.
func freeBytes(dir string) (int64, error) {
	return 0, errors.New("free space is not known on this system")
}
