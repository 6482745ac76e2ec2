package media

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"framecast.dev/server/internal/store"
	"framecast.dev/shared/api"
	"framecast.dev/shared/seal"
)

// Finalization is what the desktop sends when the recording stops.
type Finalization struct {
	SegmentCount int
	Init         bool
	Durations    []float64
	DataKey      []byte
}

func (f Finalization) check() error {
	if f.SegmentCount < 1 || f.SegmentCount > api.MaxSegmentIndex+1 {
		return fail(KindInvalid, "segment_count must be between 1 and %d.", api.MaxSegmentIndex+1)
	}
	if len(f.Durations) != f.SegmentCount {
		return fail(KindInvalid, "segment_durations has %d entries for %d segments.", len(f.Durations), f.SegmentCount)
	}
	for i, d := range f.Durations {
		if math.IsNaN(d) || d <= 0 || d > api.MaxSegmentDuration {
			return fail(KindInvalid, "segment_durations[%d] = %v is not a duration in seconds.", i, d)
		}
	}
	if len(f.DataKey) != len(seal.Key{}) {
		return fail(KindInvalid, "data_key must be %d bytes.", len(seal.Key{}))
	}
	return nil
}

// Finalize makes a video playable: every announced segment must be stored
// and the data key must open them. Only the key wrapped under the server's
// key-encryption key is kept.
func (s *Service) Finalize(ctx context.Context, id string, f Finalization) (store.Video, error) {
	if err := f.check(); err != nil {
		return store.Video{}, err
	}
	var dek seal.Key
	copy(dek[:], f.DataKey)

	v, err := s.video(ctx, id)
	if err != nil {
		return store.Video{}, err
	}
	if v.State == store.StateReady {
		v, err := s.refinalize(v, f, dek)
		if err != nil {
			return store.Video{}, err
		}
		if err := s.ensureJobs(ctx, v); err != nil {
			return store.Video{}, err
		}
		return v, nil
	}

	segs, err := s.store.Segments(ctx, id)
	if err != nil {
		return store.Video{}, err
	}
	have := make(map[int]store.Segment, len(segs))
	for _, seg := range segs {
		have[seg.Index] = seg
	}
	var missing []string
	if _, ok := have[store.InitIndex]; f.Init && !ok {
		missing = append(missing, "init")
	}
	for i := range f.SegmentCount {
		if _, ok := have[i]; !ok {
			missing = append(missing, fmt.Sprint(i))
		}
	}
	if len(missing) > 0 {
		more := ""
		if len(missing) > 20 {
			more = fmt.Sprintf(" and %d more", len(missing)-20)
			missing = missing[:20]
		}
		return store.Video{}, fail(KindSegmentsMissing, "Segments %s%s are not uploaded yet.", strings.Join(missing, ", "), more)
	}

	// Open one segment (its first chunk is enough) so a wrong key is
	// caught now, not by the first viewer.
	probe := api.SegmentIndex(0)
	if f.Init {
		probe = api.InitSegment
	}
	if err := s.probeKey(ctx, v, have[int(probe)], probe, dek); err != nil {
		return store.Video{}, err
	}

	wrapped, err := seal.WrapKey(s.kek, dek, purpose(v.ID))
	if err != nil {
		return store.Video{}, fmt.Errorf("finalize %s: %w", v.ID, err)
	}
	v, err = s.store.Finalize(ctx, id, store.Finalization{
		HasInit:      f.Init,
		SegmentCount: f.SegmentCount,
		Durations:    f.Durations,
		WrappedKey:   wrapped,
		ReadyAt:      s.now().UTC(),
	})
	if errors.Is(err, store.ErrConflict) {
		return store.Video{}, fail(KindFinalized, "Video %s was finalized with other values meanwhile.", id)
	}
	if err != nil {
		return store.Video{}, err
	}
	s.log.Info("video ready", "video_id", v.ID, "segments", v.SegmentCount, "duration_s", v.Duration())
	// The video plays already; processing follows. If queueing fails the
	// desktop retries the finalize, and refinalize queues them then.
	if err := s.ensureJobs(ctx, v); err != nil {
		return store.Video{}, err
	}
	return v, nil
}

// refinalize answers a repeated finalize: the same values succeed, any
// difference is refused.
func (s *Service) refinalize(v store.Video, f Finalization, dek seal.Key) (store.Video, error) {
	same := v.SegmentCount == f.SegmentCount && v.HasInit == f.Init && slices.Equal(v.Durations, f.Durations)
	if same {
		old, err := seal.UnwrapKey(s.kek, v.WrappedKey, purpose(v.ID))
		if err != nil {
			return store.Video{}, fmt.Errorf("finalize %s: unwrap stored key: %w", v.ID, err)
		}
		same = subtle.ConstantTimeCompare(old[:], dek[:]) == 1
	}
	if !same {
		return store.Video{}, fail(KindFinalized, "Video %s is already finalized with other values.", v.ID)
	}
	return v, nil
}

func (s *Service) probeKey(ctx context.Context, v store.Video, seg store.Segment, index api.SegmentIndex, dek seal.Key) error {
	rc, err := s.blobs.Get(ctx, blobKey(v.ID, index, seg.SHA256))
	if err != nil {
		return fmt.Errorf("finalize %s: %w", v.ID, err)
	}
	defer rc.Close()
	rec, err := seal.ParseRecordingID(v.RecordingID)
	if err != nil {
		return fmt.Errorf("finalize %s: %w", v.ID, err)
	}
	r, err := seal.NewReader(rc, dek, rec, index.SealIndex())
	if err == nil {
		var one [1]byte
		_, err = r.Read(one[:])
		if err == io.EOF {
			err = nil
		}
	}
	if errors.Is(err, seal.ErrTampered) {
		return fail(KindWrongDataKey, "The data key does not open segment %s of this recording.", index)
	}
	if err != nil {
		return fmt.Errorf("finalize %s: open segment %s: %w", v.ID, index, err)
	}
	return nil
}
