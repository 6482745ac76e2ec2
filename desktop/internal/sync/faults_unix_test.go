//go:build !windows

package sync_test

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	stdsync "sync"
	"syscall"
	"testing"
	"time"

	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
	"framecast.dev/shared/testenv"
)

// The app is killed (SIGKILL, its ffmpeg with it) in the middle of a
// recording while it uploads, and started again: every segment ffmpeg had
// closed is delivered and the link plays; at most the segment being
// written when it died is lost.
func TestKill9WhileRecordingThenRestart(t *testing.T) {
	requireFFmpeg(t)
	srv := startServer(t, "")
	dir := t.TempDir()
	env := append(os.Environ(), "FRAMECAST_SYNC_TEST_DIR="+dir, "FRAMECAST_SYNC_TEST_SERVER="+srv.URL,
		"FRAMECAST_SYNC_TEST_SECONDS=60")

	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(env, childEnv+"=record")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr testenv.LockedBuffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu       stdsync.Mutex
		recID    seal.RecordingID
		started  time.Time
		closed   = -1
		uploaded int
	)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 2 {
				continue
			}
			mu.Lock()
			switch f[0] {
			case "recording":
				recID, _ = seal.ParseRecordingID(f[1])
			case "started":
				n, _ := strconv.ParseInt(f[1], 10, 64)
				started = time.Unix(0, n)
			case "closed":
				i, _ := api.ParseSegmentIndex(f[1])
				closed = max(closed, int(i))
			case "uploaded":
				uploaded++
			}
			mu.Unlock()
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := uploaded
		mu.Unlock()
		if n >= 4 {
			break
		}
		if time.Now().After(deadline) {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
			t.Fatalf("the child uploaded %d segments in 30 s:\n%s", n, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Somewhere in the next two segments: mid-upload or mid-seal, the
	// test does not choose.
	time.Sleep(time.Duration(rand.Int64N(int64(4 * time.Second))))
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	cmd.Wait()
	mu.Lock()
	elapsed, maxClosed, id := killed.Sub(started), closed, recID
	mu.Unlock()

	// Started again: recover, upload, finalize.
	again := exec.Command(os.Args[0], "-test.run=^$")
	again.Env = append(env, childEnv+"=resume")
	var out bytes.Buffer
	again.Stdout, again.Stderr = &out, &out
	if err := again.Run(); err != nil {
		t.Fatalf("restarted app: %v\n%s\nfirst run:\n%s", err, out.String(), stderr.String())
	}
	if !strings.Contains(out.String(), "ready "+id.String()+" "+srv.URL+"/v/") {
		t.Fatalf("the restarted app did not make the recording ready:\n%s", out.String())
	}
	d := openDesk(t, dir)
	r := checkDelivered(t, srv, d, id)
	media := r.SegmentCount - 1
	// Everything ffmpeg closed and the recorder saw, and by the clock at
	// most one segment (the one being written) short.
	least := int(elapsed/(2*time.Second)) - 1
	t.Logf("killed %v into the recording; %d segments seen closed, %d delivered (at least %d expected)",
		elapsed.Round(time.Millisecond), maxClosed+1, media, least)
	if media < maxClosed+1 {
		t.Fatalf("%d segments delivered, but the recorder had seen %d closed", media, maxClosed+1)
	}
	if media < least {
		t.Fatalf("%d segments delivered after %v of recording: more than one segment lost", media, elapsed)
	}
}

// A probe that hangs (the server accepts connections but never answers)
// must not make the uploader busy-loop while it waits.
func TestHangingProbeDoesNotSpin(t *testing.T) {
	addr := testenv.FreeAddr(t)
	d := openDesk(t, t.TempDir())
	r := d.create(t, "Black hole")
	d.add(t, r.ID, 0, 10_000)
	up := runUploader(t, d, "http://"+addr)
	deadline := time.Now().Add(5 * time.Second)
	for !up.Stats().Offline { // connection refused: offline
		if time.Now().After(deadline) {
			t.Fatal("never went offline")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ln, err := net.Listen("tcp", addr) // now a black hole
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	up.Notify()
	time.Sleep(1500 * time.Millisecond) // the probe is out and hangs
	before := cpuTime(t)
	time.Sleep(2 * time.Second)
	used := cpuTime(t) - before
	t.Logf("%v of CPU in 2 s with a probe hanging", used)
	if used > 300*time.Millisecond {
		t.Fatalf("%v of CPU in 2 s while waiting on a hanging probe: a busy loop", used)
	}
}

func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
