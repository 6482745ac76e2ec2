package encode

import (
	"io"
	"os/exec"
)

// audioInput is how the second stream reaches ffmpeg.
type audioInput interface {
	url() string                 // for -i
	prepare(cmd *exec.Cmd) error // before Start
	started()                    // after Start
	writer() io.Writer
	close()
}
