//go:build !windows

package encode

import (
	"io"
	"os"
	"os/exec"
)

// pipeInput hands ffmpeg the audio as its fd 3.
type pipeInput struct{ r, w *os.File }

func newAudioInput() (audioInput, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	return &pipeInput{r: r, w: w}, nil
}

func (p *pipeInput) url() string { return "pipe:3" }

func (p *pipeInput) prepare(cmd *exec.Cmd) error {
	cmd.ExtraFiles = []*os.File{p.r}
	return nil
}

func (p *pipeInput) started()          { p.r.Close() }
func (p *pipeInput) writer() io.Writer { return p.w }
func (p *pipeInput) close()            { p.r.Close(); p.w.Close() }
