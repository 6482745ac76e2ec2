package media

import (
	"io"
	"os"
)

// Receiving an import's bytes is most of what an upload of a large file
// costs, so the copy into the spool file is tuned against a plain
// socket-to-file copy (BenchmarkImportToPlayable): large reads and
// writes instead of io.Copy's 32 KiB, reading the socket in one
// goroutine while another writes the file, and the kernel asked to start
// writing each run of bytes back to disk as soon as it is in the file, so
// the fsync that makes the part durable (blob.PutFile) waits for the last
// few MiB instead of the whole file.

const (
	spoolChunk = 1 << 20 // bytes per read and write
	// spoolChunks in flight between the reader and the writer: memory per
	// upload request is spoolChunks × spoolChunk.
	spoolChunks = 4
	// spoolWriteback is how many written bytes at a time are handed to
	// the disk early.
	spoolWriteback = 16 << 20
)

type spoolBuf struct {
	b   []byte
	n   int
	err error // the read's error, after b[:n]
}

// spoolCopy copies up to limit bytes from r into f (from its start),
// returning how many were written; like io.Copy, a short body is no
// error (the caller compares counts) and what arrived before a failed
// read is written.
func spoolCopy(f *os.File, r io.Reader, limit int64) (int64, error) {
	full := make(chan *spoolBuf, spoolChunks)
	free := make(chan *spoolBuf, spoolChunks)
	for range spoolChunks {
		free <- &spoolBuf{b: make([]byte, spoolChunk)}
	}
	stop := make(chan struct{})
	go func() {
		defer close(full)
		left := limit
		for left > 0 {
			var sb *spoolBuf
			select {
			case sb = <-free:
			case <-stop:
				return
			}
			want := int(min(left, spoolChunk))
			sb.n, sb.err = 0, nil
			for sb.n < want && sb.err == nil {
				var m int
				m, sb.err = r.Read(sb.b[sb.n:want])
				sb.n += m
			}
			left -= int64(sb.n)
			full <- sb
			if sb.err != nil {
				return
			}
		}
	}()
	var (
		written, flushed int64
		readErr, wErr    error
	)
	for sb := range full {
		if wErr == nil && sb.n > 0 {
			var m int
			m, wErr = f.Write(sb.b[:sb.n])
			written += int64(m)
			if wErr == nil && written-flushed >= spoolWriteback {
				startWriteback(f, flushed, written-flushed)
				flushed = written
			}
			if wErr != nil {
				close(stop)
			}
		}
		if sb.err != nil && sb.err != io.EOF {
			readErr = sb.err
		}
		free <- sb
	}
	if wErr != nil {
		return written, wErr
	}
	return written, readErr
}
