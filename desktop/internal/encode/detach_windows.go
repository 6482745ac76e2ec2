package encode

import (
	"os/exec"
	"syscall"
)

// detach keeps Ctrl-C in a console away from ffmpeg: the recorder ends it
// after flushing the last frames and sound.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP}
}
