package sync_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// A large segment goes from disk to the server in pieces: the uploader's
// heap does not grow by anything like the segment's size.
func TestLargeSegmentIsStreamed(t *testing.T) {
	const size = 48 << 20
	srv := startServer(t, "")
	d := openDesk(t, t.TempDir())
	r := d.create(t, "Big")
	path := filepath.Join(d.plain, "big.m4s")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	chunk := plaintext(r.ID, 0, 1<<20)
	for range size / len(chunk) {
		f.Write(chunk)
	}
	f.Close()
	if _, err := d.q.AddSegment(context.Background(), r.ID, 0, path, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	d.finish(t, r.ID)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	peak := base
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	}()
	up := runUploader(t, d, srv.URL)
	waitReady(t, up.Uploader, r.ID, time.Minute)
	close(stop)
	<-sampled
	checkDelivered(t, srv, d, r.ID)
	grew := int64(peak) - int64(base)
	t.Logf("heap grew by %.1f MB at most while uploading a %d MB segment", float64(grew)/(1<<20), size>>20)
	if grew > 12<<20 {
		t.Fatalf("the heap grew by %d MB uploading a %d MB segment: it is not streamed", grew>>20, size>>20)
	}
}
