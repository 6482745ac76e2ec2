package queue

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

// The crash tests run a child copy of this test binary that records
// segments in a loop (write plaintext, AddSegment) and kill it with
// SIGKILL: either the child kills itself at an exact step inside
// AddSegment, or the parent kills it at a random moment. The parent then
// runs Recover and checks the promise: every segment the child closed is
// queued exactly once, its sealed file matches its row and opens to the
// right bytes, and nothing half-done is left.

const (
	childEnv    = "FRAMECAST_QUEUE_CRASH_CHILD" // base folder of the child's queue
	childRecEnv = "FRAMECAST_QUEUE_CRASH_REC"   // recording id
	childAtEnv  = "FRAMECAST_QUEUE_CRASH_AT"    // "step:index", or empty to run until killed
)

func TestMain(m *testing.M) {
	if base := os.Getenv(childEnv); base != "" {
		os.Exit(crashChild(base, os.Getenv(childRecEnv), os.Getenv(childAtEnv)))
	}
	os.Exit(m.Run())
}

func crashChild(base, rec, at string) int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "crash child:", err); return 3 }
	id, err := seal.ParseRecordingID(rec)
	if err != nil {
		return fail(err)
	}
	f := openFixture(childTB{}, base)
	var index api.SegmentIndex = -2
	if at != "" {
		stepName, idx, _ := strings.Cut(at, ":")
		killAt, _ := strconv.Atoi(idx)
		crashHook = func(s string) {
			if s == stepName && index == api.SegmentIndex(killAt) {
				p, _ := os.FindProcess(os.Getpid())
				p.Kill()
				select {} // SIGKILL is on its way
			}
		}
	}
	out := bufio.NewWriter(os.Stdout)
	for index = 0; index < 1000; index++ {
		path := writePlain(childTB{}, f.plain, index)
		if _, err := f.q.AddSegment(context.Background(), id, index, path, testDuration(index)); err != nil {
			return fail(err)
		}
		fmt.Fprintf(out, "added %d\n", index)
		out.Flush()
	}
	return fail(fmt.Errorf("ran 1000 segments without being killed"))
}

// childTB lets the test helpers run in the child, where there is no
// testing.T: any failure ends the child loudly.
type childTB struct{ testing.TB }

func (childTB) Helper() {}
func (childTB) Fatal(args ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"crash child:"}, args...)...)
	os.Exit(3)
}
func (childTB) Cleanup(func()) {}

// runCrashChild starts the child and kills it: at its own chosen step when
// at is set, else after it reports killAfter segments and a random pause.
// It returns how many segments the child reported added.
func runCrashChild(t *testing.T, base string, rec seal.RecordingID, at string, killAfter int, rng *rand.Rand) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+base, childRecEnv+"="+rec.String(), childAtEnv+"="+at)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	added := 0
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		added++
		if at == "" && added == killAfter {
			time.Sleep(time.Duration(rng.IntN(4000)) * time.Microsecond)
			cmd.Process.Kill()
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	err = cmd.Wait()
	if cmd.ProcessState.ExitCode() != -1 {
		t.Fatalf("child was not killed (exit %v): %s", err, stderr.String())
	}
	return added
}

// checkAfterCrash runs Recover in a fresh process state and checks every
// promise. It returns the report for step-specific checks.
func checkAfterCrash(t *testing.T, base string, rec seal.RecordingID, added int) RecoverReport {
	t.Helper()
	f := openFixture(t, base)
	ctx := context.Background()
	rep, err := f.q.Recover(ctx)
	if err != nil {
		t.Fatalf("Recover: %v", err)
	}
	segs, err := f.q.Segments(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	// Every closed segment is there exactly once, in order, with no gap.
	if len(segs) < added {
		t.Fatalf("%d segments after recovery, but the child had added %d", len(segs), added)
	}
	for i, s := range segs {
		if s.Index != api.SegmentIndex(i) {
			t.Fatalf("segment %d has index %d: a closed segment was lost", i, s.Index)
		}
		verifySegment(t, f.q, s)
	}
	// Nothing half-present: no temp files, no sealed file without a row,
	// no plaintext segment left unqueued.
	files, _ := os.ReadDir(f.q.recordingDir(rec))
	if len(files) != len(segs) {
		var names []string
		for _, e := range files {
			names = append(names, e.Name())
		}
		t.Fatalf("%d files for %d rows: %v", len(files), len(segs), names)
	}
	left, _ := filepath.Glob(filepath.Join(f.plain, "segment_*.m4s"))
	if len(left) > 0 {
		t.Fatalf("plaintext segments left after recovery: %v", left)
	}
	r, err := f.q.Recording(ctx, rec)
	if err != nil || r.State != StateFinished || r.SegmentCount != len(segs) {
		t.Fatalf("recording after recovery: %+v, %v", r, err)
	}
	if len(rep.Missing) > 0 {
		t.Fatalf("rows without files: %v", rep.Missing)
	}
	again, err := f.q.Recover(ctx)
	if err != nil || fmt.Sprint(again) != fmt.Sprint(RecoverReport{}) {
		t.Fatalf("a second Recover still found work: %+v, %v", again, err)
	}
	return rep
}

func newCrashRecording(t *testing.T) (string, seal.RecordingID) {
	t.Helper()
	base := t.TempDir()
	f := openFixture(t, base)
	r := f.create(t, "crash")
	f.q.Close()
	return base, r.ID
}

// TestKillAtEveryStep kills the child at each step of AddSegment while it
// adds segment 2, and checks that Recover takes the path that step needs.
func TestKillAtEveryStep(t *testing.T) {
	for _, c := range []struct {
		step  string
		check func(RecoverReport) bool
	}{
		{"temp-created", func(r RecoverReport) bool { return r.TempRemoved == 1 && r.PlainQueued == 1 }},
		{"sealed", func(r RecoverReport) bool { return r.TempRemoved == 1 && r.PlainQueued == 1 }},
		{"synced", func(r RecoverReport) bool { return r.TempRemoved == 1 && r.PlainQueued == 1 }},
		{"renamed", func(r RecoverReport) bool { return r.Adopted == 1 && r.PlainRemoved == 1 }},
		{"dir-synced", func(r RecoverReport) bool { return r.Adopted == 1 && r.PlainRemoved == 1 }},
		{"committed", func(r RecoverReport) bool { return r.Adopted == 0 && r.PlainRemoved == 1 }},
		{"plaintext-removed", func(r RecoverReport) bool { return r.Adopted == 0 && r.PlainRemoved == 0 && r.PlainQueued == 0 }},
	} {
		t.Run(c.step, func(t *testing.T) {
			base, rec := newCrashRecording(t)
			added := runCrashChild(t, base, rec, c.step+":2", 0, nil)
			if added != 2 {
				t.Fatalf("child added %d segments before dying at segment 2", added)
			}
			rep := checkAfterCrash(t, base, rec, added)
			if !c.check(rep) || len(rep.Closed) != 1 {
				t.Fatalf("recovery after a kill at %s took the wrong path: %+v", c.step, rep)
			}
		})
	}
}

// TestKillAtRandom kills the child at random moments: inside AddSegment,
// between calls, or while it writes a plaintext file.
func TestKillAtRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	for run := range 20 {
		t.Run(strconv.Itoa(run), func(t *testing.T) {
			base, rec := newCrashRecording(t)
			killAfter := 1 + rng.IntN(12)
			added := runCrashChild(t, base, rec, "", killAfter, rng)
			rep := checkAfterCrash(t, base, rec, added)
			t.Logf("killed after %d segments: %+v", added, rep)
		})
	}
}
