package s3test

import "syscall"

// sysProcAttr has Linux kill the server when the thread that started it
// ends, so that it never outlives the test binary, even one that crashes.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
