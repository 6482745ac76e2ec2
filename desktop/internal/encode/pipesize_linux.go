package encode

import (
	"os"

	"golang.org/x/sys/unix"
)

// growPipe enlarges the video pipe (64 KiB by default) towards a frame, so
// a 3–8 MB frame crosses in a few writes instead of a hundred wake-ups.
func growPipe(f *os.File, want int) {
	if max, err := os.ReadFile("/proc/sys/fs/pipe-max-size"); err == nil {
		n := 0
		for _, c := range max {
			if c < '0' || c > '9' {
				break
			}
			n = n*10 + int(c-'0')
		}
		if n > 0 && want > n {
			want = n
		}
	}
	// Through SyscallConn: f.Fd() would switch the pipe to blocking mode.
	if rc, err := f.SyscallConn(); err == nil {
		_ = rc.Control(func(fd uintptr) { _, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, want) })
	}
}
