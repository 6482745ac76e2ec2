package sync_test

import "syscall"

// dieWithParent makes a child process end with the test process, as
// ffmpeg would lose its input when the recorder dies.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
