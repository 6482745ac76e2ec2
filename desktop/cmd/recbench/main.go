//go:build linux

// Command recbench measures what recording costs: it records the same
// moving 1080p30 content on a private Xvfb with `framecast record` and
// with ffmpeg's own x11grab + libx264 at the same preset, one after the
// other, and prints CPU-seconds per recorded second, dropped frames and
// peak memory of each.
//
//	go run ./desktop/cmd/recbench            # 60 s each, preset veryfast
//	go run ./desktop/cmd/recbench -seconds 20 -preset superfast
//
// It is a benchmark, not a test: it takes a few minutes and its numbers
// depend on the machine (and on what else runs on it).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"framecast.dev/desktop/internal/capture/screentest"
	"framecast.dev/desktop/internal/cli"
	"framecast.dev/desktop/internal/encode"
	"framecast.dev/shared/testenv"
)

const childEnv = "FRAMECAST_RECBENCH_CHILD"

func main() {
	// The Framecast run is this binary again, as `framecast record`, so
	// its CPU and memory are measured apart from the content generator.
	if os.Getenv(childEnv) != "" {
		if p := os.Getenv("RECBENCH_CPUPROFILE"); p != "" {
			if f, err := os.Create(p); err == nil {
				pprof.StartCPUProfile(f)
				defer pprof.StopCPUProfile()
			}
		}
		ctx, stop := signalContext()
		code := cli.Run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		pprof.StopCPUProfile()
		os.Exit(code)
	}
	secs := flag.Int("seconds", 60, "length of each recording")
	preset := flag.String("preset", encode.DefaultPreset, "libx264 preset for both recorders")
	withAudio := flag.Bool("audio", false, "also record system audio with Framecast (ffmpeg's run stays video-only)")
	flag.Parse()
	if err := run(*secs, *preset, *withAudio); err != nil {
		fmt.Fprintln(os.Stderr, "recbench:", err)
		os.Exit(1)
	}
}

type result struct {
	name      string
	cpu       time.Duration // user+system of the process and its children
	recorded  float64       // seconds of video
	frames    int64
	dropped   int64
	peakRSS   int64 // bytes, all processes of the run together
	peakPSS   int64 // the same, shared pages (ffmpeg's libraries) counted once
	peakProcs string
}

func run(secs int, preset string, withAudio bool) error {
	x, err := testenv.StartXvfb(1920, 1080)
	if err != nil {
		return err
	}
	defer x.Stop()
	os.Setenv("DISPLAY", x.Name)
	p, err := testenv.StartPulseAudio()
	if err != nil {
		return err
	}
	defer p.Stop()
	for _, kv := range p.Env() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	win, err := screentest.NewWindow(x.Name, image.Rect(0, 0, 1920, 1080))
	if err != nil {
		return err
	}
	defer win.Close()
	stop := win.Animate(30)
	defer stop()
	ffmpeg, err := encode.Locate("")
	if err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "recbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	fmt.Printf("Recording %d s of moving 1920x1080 content at 30 fps, libx264 preset %s, on %s (%d CPUs), load average %s\n\n",
		secs, preset, hostname(), numCPU(), loadAvg())
	var results []result
	fc, err := runFramecast(work, secs, preset, withAudio)
	if err != nil {
		return fmt.Errorf("framecast: %w", err)
	}
	results = append(results, fc)
	for _, tune := range []string{"", "zerolatency"} {
		r, err := runX11grab(ffmpeg, work, x.Name, secs, preset, tune)
		if err != nil {
			return fmt.Errorf("ffmpeg x11grab: %w", err)
		}
		results = append(results, r)
	}
	print(results)
	fmt.Printf("\nload average at the end: %s (other programs' CPU use makes frames drop; CPU seconds are ours only)\n", loadAvg())
	return nil
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func runFramecast(work string, secs int, preset string, withAudio bool) (result, error) {
	exe, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	args := []string{"record", "--out", filepath.Join(work, "framecast"), "--duration", fmt.Sprintf("%ds", secs),
		"--mic", "none", "--encoder", "libx264", "--preset", preset, "--json"}
	name := "framecast record"
	if withAudio {
		args = append(args, "--system-audio")
		name += " (+system audio)"
	}
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var stdout strings.Builder
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	r, err := measure(name, cmd)
	if err != nil {
		return r, err
	}
	sc := bufio.NewScanner(strings.NewReader(stdout.String()))
	for sc.Scan() {
		var ev struct {
			Type    string  `json:"type"`
			Seconds float64 `json:"seconds"`
			Frames  int64   `json:"frames"`
			Dropped int64   `json:"dropped"`
			Message string  `json:"message"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev.Type == "stopped" {
			if ev.Message != "" {
				return r, fmt.Errorf("recording failed: %s", ev.Message)
			}
			r.recorded, r.frames, r.dropped = ev.Seconds, ev.Frames, ev.Dropped
		}
	}
	if r.frames == 0 {
		return r, fmt.Errorf("no result from framecast record:\n%s", stdout.String())
	}
	return r, nil
}

var statsRE = regexp.MustCompile(`frame=\s*(\d+).*?(?:dup=(\d+))?\s*(?:drop=(\d+))?\s*speed`)

func runX11grab(ffmpeg, work, display string, secs int, preset, tune string) (result, error) {
	args := []string{"-hide_banner", "-nostdin", "-loglevel", "error", "-stats",
		"-f", "x11grab", "-framerate", "30", "-video_size", "1920x1080", "-i", display,
		"-t", strconv.Itoa(secs), "-c:v", "libx264", "-preset", preset}
	name := "ffmpeg x11grab"
	if tune != "" {
		args = append(args, "-tune", tune)
		name += " -tune " + tune
	}
	args = append(args, "-crf", "23", "-pix_fmt", "yuv420p", "-g", "60", "-f", "mp4", "-y",
		filepath.Join(work, "x11grab-"+tune+".mp4"))
	cmd := exec.Command(ffmpeg, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	r, err := measure(name, cmd)
	if err != nil {
		return r, fmt.Errorf("%w: %s", err, stderr.String())
	}
	// The last progress line: frame=1800 ... dup=0 drop=0 speed=1x
	lines := strings.FieldsFunc(stderr.String(), func(c rune) bool { return c == '\r' || c == '\n' })
	for i := len(lines) - 1; i >= 0; i-- {
		if m := statsRE.FindStringSubmatch(lines[i]); m != nil {
			r.frames, _ = strconv.ParseInt(m[1], 10, 64)
			dup, _ := strconv.ParseInt(m[2], 10, 64)
			drop, _ := strconv.ParseInt(m[3], 10, 64)
			want := int64(secs * 30)
			r.dropped = max(want-r.frames, 0) + dup + drop
			break
		}
	}
	r.recorded = float64(r.frames) / 30
	return r, nil
}

// measure runs cmd to the end, sampling the memory of its process tree,
// and returns the CPU it and its children used.
func measure(name string, cmd *exec.Cmd) (result, error) {
	r := result{name: name}
	if err := cmd.Start(); err != nil {
		return r, err
	}
	done := make(chan struct{})
	var mu sync.Mutex
	peakByProc := map[string]int64{}
	cpuByProc := map[string]time.Duration{}
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			total, totalPSS := int64(0), int64(0)
			mu.Lock()
			for _, pid := range tree(cmd.Process.Pid) {
				rss, hwm, comm := memOf(pid)
				total += rss
				totalPSS += pssOf(pid)
				key := fmt.Sprintf("%s[%d]", comm, pid)
				peakByProc[key] = max(peakByProc[key], hwm)
				if c := cpuOf(pid); c > 0 {
					cpuByProc[key] = c
				}
			}
			r.peakRSS = max(r.peakRSS, total)
			r.peakPSS = max(r.peakPSS, totalPSS)
			mu.Unlock()
		}
	}()
	err := cmd.Wait()
	close(done)
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			// wait4 counts the process and the children it waited for.
			r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	mu.Lock()
	var parts []string
	for k, v := range peakByProc {
		parts = append(parts, fmt.Sprintf("%s %d MB %.1f CPU s", k, v>>20, cpuByProc[k].Seconds()))
	}
	sort.Strings(parts)
	mu.Unlock()
	r.peakProcs = strings.Join(parts, ", ")
	return r, err
}

// tree lists pid and its descendants.
func tree(root int) []int {
	entries, _ := os.ReadDir("/proc")
	parent := map[int]int{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) > 1 {
			parent[pid], _ = strconv.Atoi(f[1])
		}
	}
	out := []int{root}
	for i := 0; i < len(out); i++ {
		for pid, pp := range parent {
			if pp == out[i] {
				out = append(out, pid)
			}
		}
	}
	return out
}

// cpuOf is the CPU time a process has used so far.
func cpuOf(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+k) * time.Second / 100 // USER_HZ
}

// pssOf is a process's proportional set size in bytes: shared pages are
// split among the processes sharing them.
func pssOf(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "Pss:") {
			f := strings.Fields(line)
			if len(f) > 1 {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

// memOf returns a process's resident and peak resident memory in bytes.
func memOf(pid int) (rss, hwm int64, comm string) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		fields := strings.Fields(v)
		switch k {
		case "Name":
			comm = strings.TrimSpace(v)
		case "VmRSS", "VmHWM":
			if len(fields) > 0 {
				n, _ := strconv.ParseInt(fields[0], 10, 64)
				if k == "VmRSS" {
					rss = n << 10
				} else {
					hwm = n << 10
				}
			}
		}
	}
	return rss, hwm, comm
}

func print(rs []result) {
	base := rs[1].cpu.Seconds() / rs[1].recorded
	fmt.Printf("%-36s %8s %12s %7s %8s %10s %10s\n", "recorder", "CPU s", "CPU s per s", "ratio", "dropped", "peak RSS", "peak PSS")
	for _, r := range rs {
		per := r.cpu.Seconds() / r.recorded
		fmt.Printf("%-36s %8.1f %12.3f %7.2f %8d %7d MB %7d MB\n", r.name, r.cpu.Seconds(), per, per/base, r.dropped, r.peakRSS>>20, r.peakPSS>>20)
	}
	fmt.Println()
	fmt.Println("ratio: CPU per recorded second relative to plain `ffmpeg -f x11grab ... -c:v libx264` at the same preset.")
	fmt.Println("dropped: frames repeated or missing against 30 per second.")
	fmt.Println("peak RSS/PSS: all processes of the run together (PSS counts ffmpeg's shared libraries once).")
	for _, r := range rs {
		fmt.Printf("  %s: %.1f s recorded, %d frames; per process peak: %s\n", r.name, r.recorded, r.frames, r.peakProcs)
	}
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}

func signalContext() (context.Context, func()) {
	return contextWithSignals()
}
