//go:build linux

package recorder_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// childFFmpeg finds this process's ffmpeg child whose command line
// contains marker.
func childFFmpeg(t *testing.T, marker string) int {
	t.Helper()
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			pid, _ := strconv.Atoi(s)
			cmd, _ := os.ReadFile("/proc/" + s + "/cmdline")
			if strings.Contains(string(cmd), "ffmpeg") && strings.Contains(string(cmd), marker) {
				return pid
			}
		}
	}
	t.Fatalf("no ffmpeg child with %q", marker)
	return 0
}

func syscallKill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
