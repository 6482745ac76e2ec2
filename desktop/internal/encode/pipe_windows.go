package encode

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"sync"
	"time"
)

// tcpInput hands ffmpeg the audio over a loopback connection: Windows
// processes inherit no file descriptors beyond stdin/stdout/stderr.
type tcpInput struct {
	ln   net.Listener
	once sync.Once
	conn net.Conn
	err  error
}

func newAudioInput() (audioInput, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for ffmpeg's audio connection: %w", err)
	}
	return &tcpInput{ln: ln}, nil
}

func (t *tcpInput) url() string                 { return "tcp://" + t.ln.Addr().String() }
func (t *tcpInput) prepare(cmd *exec.Cmd) error { return nil }
func (t *tcpInput) started()                    {}

func (t *tcpInput) accept() {
	t.once.Do(func() {
		if tl, ok := t.ln.(*net.TCPListener); ok {
			_ = tl.SetDeadline(time.Now().Add(30 * time.Second))
		}
		t.conn, t.err = t.ln.Accept()
		t.ln.Close()
		if t.err != nil {
			t.err = fmt.Errorf("ffmpeg did not connect for audio: %w", t.err)
		}
	})
}

func (t *tcpInput) writer() io.Writer { return writerFunc(t.write) }

func (t *tcpInput) write(p []byte) (int, error) {
	t.accept()
	if t.err != nil {
		return 0, t.err
	}
	return t.conn.Write(p)
}

func (t *tcpInput) close() {
	t.ln.Close()
	t.once.Do(func() { t.err = errors.New("closed") })
	if t.conn != nil {
		t.conn.Close()
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
