//go:build !windows

package recorder

import "golang.org/x/sys/unix"

// diskFree is the space left for an unprivileged user on dir's disk.
func diskFree(dir string) (uint64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
