//go:build !linux

package sync_test

import "syscall"

func dieWithParent() *syscall.SysProcAttr { return nil }
