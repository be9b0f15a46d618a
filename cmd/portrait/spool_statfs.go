//go:build linux || darwin || freebsd || openbsd || dragonfly

package main

import "syscall"

// freeBytes returns the bytes an unprivileged process may still write to
// the file system of dir.
func freeBytes(dir string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}
