// Package shared holds nothing itself; its sub-packages carry what the desktop
// app and the server must agree on byte for byte (the sync API and the seal
// format) and the test support both sides use to start real dependencies.
package shared
