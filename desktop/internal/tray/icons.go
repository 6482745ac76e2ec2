//go:build linux || windows

package tray

import _ "embed"

// Windows wants ICO; the StatusNotifierItem takes PNG.
var (
	//go:embed icons/idle.png
	pngIdle []byte
	//go:embed icons/recording.png
	pngRecording []byte
	//go:embed icons/paused.png
	pngPaused []byte
	//go:embed icons/idle.ico
	icoIdle []byte
	//go:embed icons/recording.ico
	icoRecording []byte
	//go:embed icons/paused.ico
	icoPaused []byte
)
