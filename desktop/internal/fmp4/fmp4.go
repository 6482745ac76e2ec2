// Package fmp4 reads a fragmented-MP4 (CMAF / HLS fMP4) segment's playing
// time from its boxes: the track time scales in the init segment, and the
// sample durations in each media segment's moof.
//
// The uploader needs it for segments the queue took without a duration
// (Recover after a crash): finalize must send every segment's length. It
// reads a stream once, front to back, holding only the small moov and moof
// boxes, so it works on a segment as it is decrypted.
package fmp4

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrFormat means the bytes are not the fragmented MP4 this package reads.
var ErrFormat = errors.New("not a fragmented MP4")

// maxMeta bounds the moov and moof boxes read into memory; real ones are a
// few kilobytes.
const maxMeta = 16 << 20

// Init is what a media segment's duration depends on, from the init
// segment.
type Init struct {
	tracks []track
	main   int // index into tracks of the track that sets the pace
}

type track struct {
	id          uint32
	timescale   uint32
	handler     string // "vide", "soun", ...
	defDuration uint32 // from trex
}

// ReadInit reads an init segment (ftyp, moov).
func ReadInit(r io.Reader) (Init, error) {
	var in Init
	var trex = map[uint32]uint32{}
	err := walkTop(r, "moov", func(moov []byte) error {
		return eachBox(moov, func(typ string, body []byte) error {
			switch typ {
			case "trak":
				t, err := readTrak(body)
				if err != nil {
					return err
				}
				in.tracks = append(in.tracks, t)
			case "mvex":
				return eachBox(body, func(typ string, body []byte) error {
					if typ != "trex" {
						return nil
					}
					if len(body) < 16 {
						return fmt.Errorf("%w: short trex", ErrFormat)
					}
					trex[binary.BigEndian.Uint32(body[4:])] = binary.BigEndian.Uint32(body[12:])
					return nil
				})
			}
			return nil
		})
	})
	if err != nil {
		return Init{}, err
	}
	if len(in.tracks) == 0 {
		return Init{}, fmt.Errorf("%w: the init segment has no tracks", ErrFormat)
	}
	in.main = 0
	for i := range in.tracks {
		in.tracks[i].defDuration = trex[in.tracks[i].id]
		// The video track, when there is one: ffmpeg cuts segments at
		// video keyframes and lists their length by the video's clock.
		if in.tracks[i].handler == "vide" && in.tracks[in.main].handler != "vide" {
			in.main = i
		}
	}
	return in, nil
}

func readTrak(trak []byte) (track, error) {
	var t track
	err := eachBox(trak, func(typ string, body []byte) error {
		switch typ {
		case "tkhd":
			off := 12 // version+flags, creation, modification
			if len(body) > 0 && body[0] == 1 {
				off = 20
			}
			if len(body) < off+4 {
				return fmt.Errorf("%w: short tkhd", ErrFormat)
			}
			t.id = binary.BigEndian.Uint32(body[off:])
		case "mdia":
			return eachBox(body, func(typ string, body []byte) error {
				switch typ {
				case "mdhd":
					off := 12
					if len(body) > 0 && body[0] == 1 {
						off = 20
					}
					if len(body) < off+4 {
						return fmt.Errorf("%w: short mdhd", ErrFormat)
					}
					t.timescale = binary.BigEndian.Uint32(body[off:])
				case "hdlr":
					if len(body) < 12 {
						return fmt.Errorf("%w: short hdlr", ErrFormat)
					}
					t.handler = string(body[8:12])
				}
				return nil
			})
		}
		return nil
	})
	if err == nil && t.timescale == 0 {
		err = fmt.Errorf("%w: track %d has no time scale", ErrFormat, t.id)
	}
	return t, err
}

// Duration reads a media segment (styp, sidx, moof, mdat, ...) and returns
// its playing time on the main track (video when there is one).
func (in Init) Duration(r io.Reader) (time.Duration, error) {
	if len(in.tracks) == 0 {
		return 0, errors.New("fmp4: Duration on an empty Init; use ReadInit")
	}
	main := in.tracks[in.main]
	var ticks uint64
	fragments := 0
	err := walkTop(r, "moof", func(moof []byte) error {
		fragments++
		return eachBox(moof, func(typ string, traf []byte) error {
			if typ != "traf" {
				return nil
			}
			n, id, err := trafTicks(traf, in)
			if err == nil && id == main.id {
				ticks += n
			}
			return err
		})
	})
	if err != nil {
		return 0, err
	}
	if fragments == 0 {
		return 0, fmt.Errorf("%w: the segment has no moof", ErrFormat)
	}
	sec := ticks / uint64(main.timescale)
	rest := ticks % uint64(main.timescale)
	return time.Duration(sec)*time.Second + time.Duration(rest*uint64(time.Second)/uint64(main.timescale)), nil
}

// trafTicks sums one track fragment's sample durations.
func trafTicks(traf []byte, in Init) (ticks uint64, trackID uint32, err error) {
	var def uint32
	haveTfhd := false
	err = eachBox(traf, func(typ string, b []byte) error {
		switch typ {
		case "tfhd":
			if len(b) < 8 {
				return fmt.Errorf("%w: short tfhd", ErrFormat)
			}
			flags := binary.BigEndian.Uint32(b) & 0xffffff
			trackID = binary.BigEndian.Uint32(b[4:])
			haveTfhd = true
			for _, t := range in.tracks {
				if t.id == trackID {
					def = t.defDuration
				}
			}
			off := 8
			if flags&0x01 != 0 { // base data offset
				off += 8
			}
			if flags&0x02 != 0 { // sample description index
				off += 4
			}
			if flags&0x08 != 0 {
				if len(b) < off+4 {
					return fmt.Errorf("%w: short tfhd", ErrFormat)
				}
				def = binary.BigEndian.Uint32(b[off:])
			}
		case "trun":
			if !haveTfhd {
				return fmt.Errorf("%w: trun before tfhd", ErrFormat)
			}
			if len(b) < 8 {
				return fmt.Errorf("%w: short trun", ErrFormat)
			}
			flags := binary.BigEndian.Uint32(b) & 0xffffff
			count := uint64(binary.BigEndian.Uint32(b[4:]))
			off := 8
			if flags&0x01 != 0 { // data offset
				off += 4
			}
			if flags&0x04 != 0 { // first sample flags
				off += 4
			}
			if flags&0x100 == 0 {
				ticks += count * uint64(def)
				return nil
			}
			per := 4
			for _, f := range []uint32{0x200, 0x400, 0x800} {
				if flags&f != 0 {
					per += 4
				}
			}
			if uint64(len(b)-off) < count*uint64(per) {
				return fmt.Errorf("%w: trun lists %d samples but is too short for them", ErrFormat, count)
			}
			for i := uint64(0); i < count; i++ {
				ticks += uint64(binary.BigEndian.Uint32(b[off:]))
				off += per
			}
		}
		return nil
	})
	return ticks, trackID, err
}

// walkTop reads top-level boxes from r, hands the body of each box named
// want to fn and skips the others without holding them.
func walkTop(r io.Reader, want string, fn func(body []byte) error) error {
	var hdr [16]byte
	for {
		if _, err := io.ReadFull(r, hdr[:8]); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("%w: box header: %v", ErrFormat, err)
		}
		size := uint64(binary.BigEndian.Uint32(hdr[:4]))
		typ := string(hdr[4:8])
		head := uint64(8)
		switch size {
		case 0: // to the end of the stream
			if typ == want {
				return fmt.Errorf("%w: open-ended %s box", ErrFormat, typ)
			}
			_, err := io.Copy(io.Discard, r)
			return err
		case 1:
			if _, err := io.ReadFull(r, hdr[8:16]); err != nil {
				return fmt.Errorf("%w: box header: %v", ErrFormat, err)
			}
			size = binary.BigEndian.Uint64(hdr[8:16])
			head = 16
		}
		if size < head {
			return fmt.Errorf("%w: %q box of %d bytes", ErrFormat, typ, size)
		}
		n := size - head
		if typ != want {
			if _, err := io.CopyN(io.Discard, r, int64(n)); err != nil {
				return fmt.Errorf("%w: %s box cut short: %v", ErrFormat, typ, err)
			}
			continue
		}
		if n > maxMeta {
			return fmt.Errorf("%w: %s box of %d bytes is implausibly large", ErrFormat, typ, n)
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			return fmt.Errorf("%w: %s box cut short: %v", ErrFormat, typ, err)
		}
		if err := fn(body); err != nil {
			return err
		}
	}
}

// eachBox calls fn for every box in b.
func eachBox(b []byte, fn func(typ string, body []byte) error) error {
	for len(b) > 0 {
		if len(b) < 8 {
			return fmt.Errorf("%w: %d stray bytes", ErrFormat, len(b))
		}
		size := uint64(binary.BigEndian.Uint32(b))
		typ := string(b[4:8])
		head := uint64(8)
		switch size {
		case 0:
			size = uint64(len(b))
		case 1:
			if len(b) < 16 {
				return fmt.Errorf("%w: short %s header", ErrFormat, typ)
			}
			size = binary.BigEndian.Uint64(b[8:])
			head = 16
		}
		if size < head || size > uint64(len(b)) {
			return fmt.Errorf("%w: %q box of %d bytes in %d", ErrFormat, typ, size, len(b))
		}
		if err := fn(typ, b[head:size]); err != nil {
			return err
		}
		b = b[size:]
	}
	return nil
}
