// Package audio records the microphone and the system's own sound through
// miniaudio (gen2brain/malgo) and stamps every block of samples with the
// time it was captured, so the recorder can put sound and picture on one
// timeline.
//
// Every source delivers 48 kHz stereo float32, whatever the device's native
// format: miniaudio converts. Devices run with 100 ms periods and 4 periods
// of buffer: with miniaudio's defaults (10 ms) the sound dropped out under
// load, with these settings it did not.
//
// System audio, by platform:
//   - Linux: the monitor source of a PulseAudio sink (PipeWire provides the
//     same through pipewire-pulse). "Default" is the monitor of the default
//     sink, i.e. what the user hears.
//   - Windows: WASAPI loopback of a playback device; the IDs are those of
//     the playback devices.
//   - macOS: Core Audio offers no loopback to applications; system audio
//     needs ScreenCaptureKit (macOS 13+, not implemented here) or a virtual
//     device such as BlackHole, which then appears as a microphone.
package audio
