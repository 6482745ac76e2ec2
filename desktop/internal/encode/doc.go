// Package encode runs ffmpeg: raw frames and PCM go in through pipes, and
// out come ~2 s fragmented-MP4 HLS segments (H.264 + AAC) plus their
// playlist, written while recording; Remux then turns the segments into
// one MP4 without re-encoding.
//
// ffmpeg reads no clock of its own: each frame carries its frame number
// (a small NUT stream; ffmpeg's fps filter repeats the previous frame for
// numbers that never came) and audio is a continuous 48 kHz stream, both
// starting at zero, so whoever feeds the pipes decides what is in sync.
// (A single ffmpeg grabbing the screen and PulseAudio itself put the sound
// ~0.35 s early in our test.)
//
// Encoders: a hardware H.264 encoder (NVENC, Quick Sync, VA-API, AMF,
// Media Foundation, VideoToolbox) is used when this ffmpeg has it and a
// short test encode with the exact options succeeds; otherwise libx264.
// The probe is what makes the hardware paths safe to ship without every
// machine to test on: a wrong option or a missing driver only costs the
// fallback.
package encode
