//go:build !linux

package s3test

import "syscall"

// sysProcAttr sets nothing: only Main stops the server.
func sysProcAttr() *syscall.SysProcAttr { return nil }
