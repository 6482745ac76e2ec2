package media

import (
	"testing"

	"framecast.dev/server/internal/secrets"
	"framecast.dev/server/internal/store"
)

func TestPlaylist(t *testing.T) {
	got := Playlist(store.Video{HasInit: true, SegmentCount: 3, Durations: []float64{2.002, 2, 0.5}})
	want := `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:3
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="init.mp4"
#EXTINF:2.002000,
seg/0.m4s
#EXTINF:2.000000,
seg/1.m4s
#EXTINF:0.500000,
seg/2.m4s
#EXT-X-ENDLIST
`
	if got != want {
		t.Fatalf("playlist:\n%s\nwant:\n%s", got, want)
	}
}

func TestIDs(t *testing.T) {
	id, slug := secrets.Random(idBytes), secrets.Random(slugBytes)
	if !ValidID(id) || !ValidSlug(slug) || ValidID(slug) || ValidSlug(id) {
		t.Fatalf("id %q slug %q", id, slug)
	}
	for _, bad := range []string{"", "../../../../../../../../etc", "AAAAAAAAAAAAAAAAAAAAAAAAAA", "aaaaaaaaaaaaaaaaaaaaaaaaa1"} {
		if ValidID(bad) {
			t.Errorf("ValidID(%q)", bad)
		}
	}
}
