package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"framecast.dev/desktop/internal/capture"
	"framecast.dev/desktop/internal/capture/audio"
)

func init() {
	register("devices", "list displays, microphones and system-audio sources", runDevices)
}

type displayJSON struct {
	Index   int    `json:"index"`
	Name    string `json:"name"`
	Width   int    `json:"width"`
	Height  int    `json:"height"`
	X       int    `json:"x"`
	Y       int    `json:"y"`
	Primary bool   `json:"primary"`
}

type devicesJSON struct {
	Displays    []displayJSON  `json:"displays"`
	Microphones []audio.Device `json:"microphones"`
	SystemAudio []audio.Device `json:"systemAudio"`
}

func runDevices(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("devices", "[--json]", stderr)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}

	out := devicesJSON{Displays: []displayJSON{}, Microphones: []audio.Device{}, SystemAudio: []audio.Device{}}
	var errs []error
	ds, err := capture.Displays()
	if err != nil {
		errs = append(errs, fmt.Errorf("displays: %w", err))
	}
	for _, d := range ds {
		out.Displays = append(out.Displays, displayJSON{Index: d.Index, Name: d.Name, Width: d.Bounds.Dx(), Height: d.Bounds.Dy(),
			X: d.Bounds.Min.X, Y: d.Bounds.Min.Y, Primary: d.Primary})
	}
	actx, err := audio.NewContext(slog.New(slog.DiscardHandler))
	if err != nil {
		errs = append(errs, fmt.Errorf("sound: %w", err))
	} else {
		devs, err := actx.Devices()
		actx.Close()
		if err != nil {
			errs = append(errs, fmt.Errorf("sound: %w", err))
		}
		out.Microphones, out.SystemAudio = append(out.Microphones, devs.Microphones...), append(out.SystemAudio, devs.System...)
	}

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		printDevices(stdout, out)
	}
	return errors.Join(errs...)
}

func printDevices(w io.Writer, d devicesJSON) {
	fmt.Fprintln(w, "DISPLAYS (--display INDEX)")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(d.Displays) == 0 {
		fmt.Fprintln(tw, "  none")
	} else {
		fmt.Fprintln(tw, "  INDEX\tNAME\tSIZE\tPOSITION\t")
		for _, x := range d.Displays {
			primary := ""
			if x.Primary {
				primary = "primary"
			}
			fmt.Fprintf(tw, "  %d\t%s\t%dx%d\t%d,%d\t%s\n", x.Index, x.Name, x.Width, x.Height, x.X, x.Y, primary)
		}
	}
	tw.Flush()
	for _, sec := range []struct {
		title string
		devs  []audio.Device
	}{{"MICROPHONES (--mic ID)", d.Microphones}, {"SYSTEM AUDIO (--system-audio-device ID)", d.SystemAudio}} {
		fmt.Fprintln(w)
		fmt.Fprintln(w, sec.title)
		if len(sec.devs) == 0 {
			fmt.Fprintln(w, "  none")
			continue
		}
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  ID\tNAME\tDEFAULT")
		for _, x := range sec.devs {
			def := ""
			if x.Default {
				def = "yes"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", x.ID, x.Name, def)
		}
		tw.Flush()
	}
}
