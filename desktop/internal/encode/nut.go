package encode

import (
	"encoding/binary"
	"fmt"
)

// A minimal NUT writer: one raw video stream, every frame with its own
// timestamp. Raw frames with timestamps let the recorder send only fresh
// grabs; ffmpeg repeats the previous frame for the beats in between
// (-fps_mode cfr), after conversion and at almost no cost, where repeating
// it in the pipe would cost a full frame's transfer and colour conversion
// each time, just when the machine is too busy already.
//
// Only what libavformat's NUT demuxer needs is written: the file id, a
// main header whose 255 frame codes all say "stream id, full timestamp,
// size and checksum follow", a stream header, the frame rate, and a
// syncpoint once a second. The main header sets the pipe flag, so frames
// need no syncpoint within max_distance.

const (
	nutMainStartcode      = 0x4E4D7A561F5F04AD
	nutStreamStartcode    = 0x4E5311405BF2F9DB
	nutSyncpointStartcode = 0x4E4BE4ADEECA4569
	nutInfoStartcode      = 0x4E49AB68B596BA78

	nutFlagKey      = 1
	nutFlagCodedPTS = 8
	nutFlagStreamID = 16
	nutFlagSizeMSB  = 32
	nutFlagChecksum = 64
	nutPipe         = 2 // main header flag: no max_distance rules

	nutMSBShift = 7
)

var nutFileID = []byte("nut/multimedia container\x00")

// nutFourCC is the raw pixel layout's tag in NUT.
func nutFourCC(pixfmt string) (string, error) {
	switch pixfmt {
	case "bgr0":
		return "BGR\x00", nil
	case "rgb0":
		return "RGB\x00", nil
	case "rgba":
		return "RGBA", nil
	case "bgra":
		return "BGRA", nil
	case "yuv420p":
		return "I420", nil
	}
	return "", fmt.Errorf("no NUT tag for pixel format %s", pixfmt)
}

type nutWriter struct {
	fps      int
	lastSync int64 // pts of the last syncpoint, -1 before the first
}

func putV(b []byte, v uint64) []byte {
	var tmp [10]byte
	i := len(tmp) - 1
	tmp[i] = byte(v & 0x7f)
	for v >>= 7; v > 0; v >>= 7 {
		i--
		tmp[i] = byte(v&0x7f) | 0x80
	}
	return append(b, tmp[i:]...)
}

func putS(b []byte, v int64) []byte {
	if v > 0 {
		return putV(b, uint64(2*v-1))
	}
	return putV(b, uint64(-2*v))
}

func putStr(b []byte, s string) []byte {
	return append(putV(b, uint64(len(s))), s...)
}

// nutPacket frames payload as a NUT packet: startcode, forward pointer,
// payload, checksum.
func nutPacket(b []byte, startcode uint64, payload []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, startcode)
	fwd := uint64(len(payload) + 4)
	if fwd > 4096 {
		panic("nut: header packets stay small")
	}
	b = putV(b, fwd)
	b = append(b, payload...)
	return binary.BigEndian.AppendUint32(b, nutCRC(0, payload))
}

// header is everything before the first frame.
func (n *nutWriter) header(width, height int, pixfmt string) ([]byte, error) {
	tag, err := nutFourCC(pixfmt)
	if err != nil {
		return nil, err
	}
	b := append([]byte{}, nutFileID...)

	var m []byte
	m = putV(m, 4)             // version
	m = putV(m, 0)             // minor version
	m = putV(m, 1)             // streams
	m = putV(m, 65536)         // max_distance
	m = putV(m, 1)             // time bases
	m = putV(m, 1)             // time base: 1/fps
	m = putV(m, uint64(n.fps)) //
	m = putV(m, nutFlagKey|nutFlagCodedPTS|nutFlagStreamID|nutFlagSizeMSB|nutFlagChecksum)
	m = putV(m, 6) // fields that follow
	m = putS(m, 0) // pts delta
	m = putV(m, 1) // size multiplier
	m = putV(m, 0) // stream
	m = putV(m, 0) // size lsb
	m = putV(m, 0) // reserved count
	m = putV(m, 255)
	m = putV(m, 0) // elision headers beyond the empty one
	m = putV(m, nutPipe)
	b = nutPacket(b, nutMainStartcode, m)

	var s []byte
	s = putV(s, 0) // stream id
	s = putV(s, 0) // class: video
	s = putStr(s, tag)
	s = putV(s, 0)           // time base id
	s = putV(s, nutMSBShift) // msb_pts_shift
	s = putV(s, 1<<20)       // max_pts_distance
	s = putV(s, 0)           // decode delay
	s = putV(s, 0)           // stream flags
	s = putV(s, 0)           // codec-specific data
	s = putV(s, uint64(width))
	s = putV(s, uint64(height))
	s = putV(s, 1) // sample aspect ratio 1:1
	s = putV(s, 1)
	s = putV(s, 0) // colourspace type
	b = nutPacket(b, nutStreamStartcode, s)

	var in []byte
	in = putV(in, 1) // stream id + 1
	in = putS(in, 0) // chapter
	in = putV(in, 0) // chapter start
	in = putV(in, 0) // chapter length
	in = putV(in, 1) // one entry
	in = putStr(in, "r_frame_rate")
	in = putS(in, -1) // a UTF-8 string follows
	in = putStr(in, fmt.Sprintf("%d/1", n.fps))
	b = nutPacket(b, nutInfoStartcode, in)
	n.lastSync = -1
	return b, nil
}

// frameHeader precedes a frame of size bytes shown at pts (in frames).
func (n *nutWriter) frameHeader(b []byte, pts int64, size int) []byte {
	if n.lastSync < 0 || pts-n.lastSync >= int64(n.fps) {
		var sp []byte
		sp = putV(sp, uint64(pts)) // global key pts (one time base)
		sp = putV(sp, 0)           // back pointer: unused when reading a pipe
		b = nutPacket(b, nutSyncpointStartcode, sp)
		n.lastSync = pts
	}
	start := len(b)
	b = append(b, 0)                          // frame code 0
	b = putV(b, 0)                            // stream id
	b = putV(b, uint64(pts)+(1<<nutMSBShift)) // full pts
	b = putV(b, uint64(size))                 // size msb (× multiplier 1)
	return binary.BigEndian.AppendUint32(b, nutCRC(0, b[start:]))
}

// nutCRC is libavutil's AV_CRC_32_IEEE: polynomial 0x04C11DB7, most
// significant bit first, no final inversion.
func nutCRC(crc uint32, p []byte) uint32 {
	for _, c := range p {
		crc = crc<<8 ^ nutCRCTable[byte(crc>>24)^c]
	}
	return crc
}

var nutCRCTable = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 24
		for k := 0; k < 8; k++ {
			if c&0x80000000 != 0 {
				c = c<<1 ^ 0x04C11DB7
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}()
