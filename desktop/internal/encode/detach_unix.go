//go:build !windows

package encode

import (
	"os/exec"
	"syscall"
)

// detach puts ffmpeg in its own process group: Ctrl-C in a terminal goes
// to the whole foreground group, and ffmpeg must not end the recording on
// its own before the recorder has flushed the last frames and sound.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
