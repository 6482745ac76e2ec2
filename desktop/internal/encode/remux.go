package encode

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
)

// Remux joins an init segment and media segments (files, in order) into
// one MP4 at out, copying the streams (no re-encode) with the index at the
// front so it starts playing while it downloads. out appears only when
// complete.
func Remux(ctx context.Context, ffmpeg string, parts []string, out string) error {
	tmp := out + ".part"
	cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error",
		"-f", "mp4", "-i", "pipe:0", "-map", "0", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", "-y", tmp)
	// The segments of an fMP4 HLS stream, concatenated, are one fragmented
	// MP4: feed them through stdin instead of a concat list.
	cmd.Stdin = &concatReader{paths: parts}
	var stderr tailBuffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return &ExitError{Err: err, Tail: lastLines(stderr.String(), 4)}
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("finish %s: %w", out, err)
	}
	return nil
}

// concatReader reads files one after another, holding one open at a time.
type concatReader struct {
	paths []string
	cur   *os.File
}

func (c *concatReader) Read(p []byte) (int, error) {
	for {
		if c.cur == nil {
			if len(c.paths) == 0 {
				return 0, io.EOF
			}
			f, err := os.Open(c.paths[0])
			if err != nil {
				return 0, err
			}
			c.cur, c.paths = f, c.paths[1:]
		}
		n, err := c.cur.Read(p)
		if err == io.EOF {
			c.cur.Close()
			c.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// tailBuffer keeps the last 8 KiB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 8192 {
		t.b = t.b[len(t.b)-8192:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string { return string(t.b) }
