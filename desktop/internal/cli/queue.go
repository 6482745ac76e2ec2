package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"framecast.dev/desktop/internal/queue"
)

func init() {
	register("queue", "show the recordings waiting to upload", runQueue)
}

const queueSynopsis = `[--all] [--json]

Lists the recordings in the upload queue that are not on the server yet:
their state, segments and bytes uploaded, and the last error. --all also
lists the uploaded ones.`

// queuedRecording is one line of `framecast queue`, and its JSON form.
type queuedRecording struct {
	ID            string    `json:"id"`
	Title         string    `json:"title"`
	State         string    `json:"state"`
	CreatedAt     time.Time `json:"createdAt"`
	OnServer      bool      `json:"onServer"` // the server has created its video
	Segments      int       `json:"segments"`
	Uploaded      int       `json:"uploaded"`
	Bytes         int64     `json:"bytes"` // sealed
	UploadedBytes int64     `json:"uploadedBytes"`
	Seconds       float64   `json:"seconds"`
	// Failure is why a failed recording was given up on; LastError the
	// latest failed attempt of a segment still waiting.
	Failure   string `json:"failure,omitempty"`
	LastError string `json:"lastError,omitempty"`
}

func runQueue(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("queue", queueSynopsis, stderr)
	all := fs.Bool("all", false, "also list recordings already uploaded")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q: %w", fs.Arg(0), errUsage)
	}
	l, err := openLocal()
	if err != nil {
		return err
	}
	defer l.Close()
	list, err := listQueue(ctx, l.q, *all)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if list == nil {
			list = []queuedRecording{}
		}
		return enc.Encode(list)
	}
	printQueue(stdout, list, *all)
	return nil
}

func listQueue(ctx context.Context, q *queue.Queue, all bool) ([]queuedRecording, error) {
	recs, err := q.ListRecordings(ctx)
	if err != nil {
		return nil, err
	}
	var out []queuedRecording
	for _, r := range recs {
		if r.State == queue.StateUploaded && !all {
			continue
		}
		segs, err := q.Segments(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		qr := queuedRecording{ID: r.ID.String(), Title: r.Title, State: string(r.State), CreatedAt: r.CreatedAt,
			OnServer: r.ServerID != "", Segments: r.SegmentCount, Uploaded: r.Uploaded, Failure: r.Failure}
		for _, s := range segs {
			qr.Bytes += s.SealedSize
			qr.Seconds += s.Duration.Seconds()
			if s.State == queue.SegmentUploaded {
				qr.UploadedBytes += s.SealedSize
			} else if s.LastError != "" {
				qr.LastError = fmt.Sprintf("segment %s: %s", s.Index, s.LastError)
			}
		}
		out = append(out, qr)
	}
	return out, nil
}

func printQueue(w io.Writer, list []queuedRecording, all bool) {
	if len(list) == 0 {
		if all {
			fmt.Fprintln(w, "The upload queue is empty.")
		} else {
			fmt.Fprintln(w, "Nothing is waiting to upload.")
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RECORDING\tCREATED\tSTATE\tSEGMENTS\tUPLOADED\tLENGTH\tTITLE")
	var waitingBytes int64
	for _, r := range list {
		state := r.State
		if !r.OnServer && r.State != string(queue.StateUploaded) {
			state += ", not on the server yet"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d/%d\t%s of %s\t%s\t%s\n", r.ID[:12], r.CreatedAt.Local().Format("2006-01-02 15:04"),
			state, r.Uploaded, r.Segments, humanBytes(r.UploadedBytes), humanBytes(r.Bytes),
			(time.Duration(r.Seconds * float64(time.Second))).Round(time.Second), r.Title)
		waitingBytes += r.Bytes - r.UploadedBytes
	}
	tw.Flush()
	for _, r := range list {
		switch {
		case r.Failure != "":
			fmt.Fprintf(w, "%s failed: %s\n", r.ID[:12], r.Failure)
		case r.LastError != "":
			fmt.Fprintf(w, "%s last error: %s\n", r.ID[:12], oneLine(r.LastError))
		}
	}
	if waitingBytes > 0 {
		fmt.Fprintf(w, "%s waiting; `framecast sync` uploads it.\n", humanBytes(waitingBytes))
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:197] + "..."
	}
	return s
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
