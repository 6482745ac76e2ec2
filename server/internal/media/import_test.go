package media

import (
	"context"
	"os"
	"strings"
	"testing"

	"framecast.dev/server/internal/blob"
	"framecast.dev/server/internal/store"
)

// importSource joins the chain of parts the database confirmed, leaving
// out a part stored by a request whose count never reached the database.
func TestImportSourceFollowsTheConfirmedChain(t *testing.T) {
	ctx := context.Background()
	disk, err := blob.NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{blobs: disk}
	const id = "aaaaaaaaaaaaaaaaaaaaaaaaaa"
	put := func(start, end int64, content string) {
		if err := disk.Put(ctx, importPartKey(id, start, end), strings.NewReader(content)); err != nil {
			t.Fatal(err)
		}
	}
	put(0, 10, "0123456789")
	put(0, 4, "XXXX")       // a request that died before its count was recorded
	put(10, 12, "ab")       // the confirmed rest...
	put(10, 15, "YYYYY")    // ...and another orphan beside it
	put(12, 20, "cdefghij") // the end
	put(15, 16, "Z")        // an orphan that leads nowhere
	im := store.Import{VideoID: id, Length: 20, Received: 20, Parts: 3}
	path, err := s.importSource(ctx, id, im, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	// On disk the parts are read in place, joined by ffmpeg's concat
	// protocol.
	files, ok := strings.CutPrefix(path, "concat:")
	if !ok {
		t.Fatalf("source %q, want a concat: of the parts", path)
	}
	var got strings.Builder
	for _, f := range strings.Split(files, "|") {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got.Write(b)
	}
	if got.String() != "0123456789abcdefghij" {
		t.Fatalf("joined %q", got.String())
	}
	// One part on disk is read in place.
	disk2, _ := blob.NewDisk(t.TempDir())
	s.blobs = disk2
	if err := disk2.Put(ctx, importPartKey(id, 0, 5), strings.NewReader("whole")); err != nil {
		t.Fatal(err)
	}
	path, err = s.importSource(ctx, id, store.Import{VideoID: id, Length: 5, Received: 5, Parts: 1}, t.TempDir())
	if err != nil || !strings.HasPrefix(path, disk2.Root()) {
		t.Fatalf("one part: %q, %v", path, err)
	}
	// A gap is an incomplete file.
	if _, err := s.importSource(ctx, id, store.Import{VideoID: id, Length: 9, Received: 9, Parts: 2}, t.TempDir()); err == nil {
		t.Fatal("a file with a gap was joined")
	}
}
