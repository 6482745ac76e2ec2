package seal

import (
	"bytes"
	"io"
	"sync"
	"testing"
	"time"
)

// The benchmarks move benchSize bytes through io.Copy with the fast paths
// (WriterTo, ReaderFrom) hidden, so sealing and opening are compared with a
// plain copy doing the same buffered work. Each also reports its time as a
// multiple of the baseline's ("x-copy").
//
//	go test -bench . -benchmem ./seal/

const benchSize = 16 << 20

type onlyReader struct{ io.Reader }
type onlyWriter struct{ io.Writer }

var (
	benchPlain = sync.OnceValue(func() []byte { return pattern(benchSize) })
	benchSeal  = sync.OnceValue(func() []byte {
		var out bytes.Buffer
		w, _ := NewWriter(&out, testKey, testRec, 0)
		w.Write(benchPlain())
		w.Close()
		return out.Bytes()
	})
	// baselineNsPerOp times the baseline by hand: testing.Benchmark cannot
	// be called from inside a running benchmark.
	baselineNsPerOp = sync.OnceValue(func() float64 {
		plain := benchPlain()
		n, start := 0, time.Now()
		for time.Since(start) < 500*time.Millisecond {
			io.Copy(onlyWriter{io.Discard}, onlyReader{bytes.NewReader(plain)})
			n++
		}
		return float64(time.Since(start).Nanoseconds()) / float64(n)
	})
)

func BenchmarkBaselineCopy(b *testing.B) {
	plain := benchPlain()
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := io.Copy(onlyWriter{io.Discard}, onlyReader{bytes.NewReader(plain)}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSeal(b *testing.B) {
	plain := benchPlain()
	base := baselineNsPerOp()
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		w, err := NewWriter(onlyWriter{io.Discard}, testKey, testRec, 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(w, onlyReader{bytes.NewReader(plain)}); err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/base, "x-copy")
}

func BenchmarkOpen(b *testing.B) {
	sealed := benchSeal()
	base := baselineNsPerOp()
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewReader(onlyReader{bytes.NewReader(sealed)}, testKey, testRec, 0)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(onlyWriter{io.Discard}, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/base, "x-copy")
}
