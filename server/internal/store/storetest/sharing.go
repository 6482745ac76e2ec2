package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"framecast.dev/server/internal/store"
)

// The contract of store.Sharing and of the share settings on videos.

var sharingTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store)
}{
	{"VideoSettingsDefaults", testSettingsDefaults},
	{"VideoSettingsUpdate", testSettingsUpdate},
	{"RotateSlug", testRotateSlug},
	{"Assets", testAssets},
	{"SharePage", testSharePage},
}

func testSettingsDefaults(t *testing.T, s store.Store) {
	v := mustVideo(t, s, 1)
	if v.Privacy != store.PrivacyPublic || !v.Downloads || v.CTAButtons != nil || !v.ExpiresAt.IsZero() ||
		v.Description != "" || v.PasswordHash != "" || v.ProbedDuration != 0 {
		t.Fatalf("new video settings = %+v", v)
	}
}

func testSettingsUpdate(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := mustVideo(t, s, 1)
	want := store.VideoSettings{
		Title: "Quarterly «demo»", Description: "Line one\nline two",
		CTAButtons:   []store.CTAButton{{Label: "Book a call", URL: "https://example.com/book"}},
		Privacy:      store.PrivacyPassword,
		PasswordHash: "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA",
		ExpiresAt:    now.Add(24 * time.Hour),
		Downloads:    false,
	}
	got, err := s.UpdateVideoSettings(ctx, v.ID, want)
	if err != nil {
		t.Fatal(err)
	}
	check := func(got store.Video) {
		t.Helper()
		if got.Title != want.Title || got.Description != want.Description || !slices.Equal(got.CTAButtons, want.CTAButtons) ||
			got.Privacy != want.Privacy || got.PasswordHash != want.PasswordHash || !got.ExpiresAt.Equal(want.ExpiresAt) ||
			got.Downloads != want.Downloads || got.Slug != v.Slug {
			t.Fatalf("settings = %+v, want %+v", got, want)
		}
	}
	check(got)
	again, err := s.Video(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	check(again)
	// No buttons is not the same as the workspace default.
	want = store.VideoSettings{Title: "t", Privacy: store.PrivacyPublic, CTAButtons: []store.CTAButton{}, Downloads: true}
	got, err = s.UpdateVideoSettings(ctx, v.ID, want)
	if err != nil || got.CTAButtons == nil || len(got.CTAButtons) != 0 || !got.ExpiresAt.IsZero() {
		t.Fatalf("empty buttons = %+v, %v", got, err)
	}
	want.CTAButtons = nil
	if got, err = s.UpdateVideoSettings(ctx, v.ID, want); err != nil || got.CTAButtons != nil {
		t.Fatalf("default buttons = %+v, %v", got, err)
	}
	if _, err := s.UpdateVideoSettings(ctx, "ghost", want); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("UpdateVideoSettings(ghost): %v", err)
	}
	if err := s.SetProbedDuration(ctx, v.ID, 6.04); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Video(ctx, v.ID); got.ProbedDuration != 6.04 {
		t.Fatalf("ProbedDuration = %v", got.ProbedDuration)
	}
	if err := s.SetProbedDuration(ctx, "ghost", 1); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetProbedDuration(ghost): %v", err)
	}
}

func testRotateSlug(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := mustVideo(t, s, 1)
	other := mustVideo(t, s, 2)
	got, err := s.RotateSlug(ctx, v.ID, "fresh")
	if err != nil || got.Slug != "fresh" {
		t.Fatalf("RotateSlug = %+v, %v", got, err)
	}
	if _, err := s.VideoBySlug(ctx, v.Slug); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("old slug still answers: %v", err)
	}
	if got, err := s.VideoBySlug(ctx, "fresh"); err != nil || got.ID != v.ID {
		t.Fatalf("new slug = %+v, %v", got, err)
	}
	if _, err := s.RotateSlug(ctx, v.ID, other.Slug); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("rotating onto a taken slug: %v, want ErrConflict", err)
	}
	if _, err := s.RotateSlug(ctx, "ghost", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("RotateSlug(ghost): %v", err)
	}
}

func asset(videoID, kind, key string) store.Asset {
	return store.Asset{VideoID: videoID, Kind: kind, BlobKey: key, SealIndex: 4294967294, Size: 1000, SealedSize: 1077,
		ContentType: "image/jpeg", Width: 1280, Height: 720, Duration: 0.5, CreatedAt: now}
}

func testAssets(t *testing.T, s store.Store) {
	ctx := context.Background()
	v := mustVideo(t, s, 1)
	if _, err := s.Asset(ctx, v.ID, store.AssetThumbnail); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Asset before any: %v", err)
	}
	first := asset(v.ID, store.AssetThumbnail, "videos/x/thumb-1")
	old, err := s.PutAsset(ctx, first)
	if err != nil || old.BlobKey != "" {
		t.Fatalf("first PutAsset = %+v, %v", old, err)
	}
	if got, err := s.Asset(ctx, v.ID, store.AssetThumbnail); err != nil || got != first {
		t.Fatalf("Asset = %+v, %v; want %+v", got, err, first)
	}
	second := asset(v.ID, store.AssetThumbnail, "videos/x/thumb-2")
	if old, err = s.PutAsset(ctx, second); err != nil || old != first {
		t.Fatalf("replacing PutAsset returned %+v, %v; want the first", old, err)
	}
	gif := asset(v.ID, store.AssetGIF, "videos/x/gif")
	gif.ContentType = "image/gif"
	if _, err := s.PutAsset(ctx, gif); err != nil {
		t.Fatal(err)
	}
	all, err := s.Assets(ctx, v.ID)
	if err != nil || len(all) != 2 || all[0] != gif || all[1] != second {
		t.Fatalf("Assets = %+v, %v", all, err)
	}
	if _, err := s.PutAsset(ctx, asset("ghost", store.AssetGIF, "k")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("PutAsset for a missing video: %v", err)
	}
	if got, err := s.DeleteAsset(ctx, v.ID, store.AssetGIF); err != nil || got != gif {
		t.Fatalf("DeleteAsset = %+v, %v", got, err)
	}
	if _, err := s.DeleteAsset(ctx, v.ID, store.AssetGIF); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleting twice: %v", err)
	}
}

func testSharePage(t *testing.T, s store.Store) {
	ctx := context.Background()
	u := mustUser(t, s, 1)
	ws := store.Workspace{ID: "ws1", Name: "Acme", LogoKey: "workspaces/ws1/logo", LogoType: "image/png",
		CTAButtons: []store.CTAButton{{Label: "Visit", URL: "https://acme.example"}}, CreatedAt: now}
	if err := s.CreateWorkspace(ctx, ws, u.ID); err != nil {
		t.Fatal(err)
	}
	personal := video(1)
	personal.OwnerID = u.ID
	inWS := video(2)
	inWS.OwnerID = u.ID
	inWS.WorkspaceID = ws.ID
	for _, v := range []store.Video{personal, inWS, video(3)} {
		if _, _, err := s.CreateVideo(ctx, v); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.PutAsset(ctx, asset(inWS.ID, store.AssetThumbnail, "k")); err != nil {
		t.Fatal(err)
	}

	p, err := s.SharePage(ctx, inWS.Slug)
	if err != nil {
		t.Fatal(err)
	}
	if p.Video.ID != inWS.ID || p.OwnerName != u.Name || p.WorkspaceName != "Acme" || p.WorkspaceLogoKey != ws.LogoKey ||
		!slices.Equal(p.WorkspaceCTA, ws.CTAButtons) || len(p.Assets) != 1 || p.Video.Privacy != store.PrivacyPublic {
		t.Fatalf("SharePage = %+v", p)
	}
	if a, ok := p.Asset(store.AssetThumbnail); !ok || a.BlobKey != "k" {
		t.Fatalf("SharePage.Asset = %+v, %v", a, ok)
	}
	p, err = s.SharePage(ctx, personal.Slug)
	if err != nil || p.OwnerName != u.Name || p.WorkspaceName != "" || len(p.WorkspaceCTA) != 0 || len(p.Assets) != 0 {
		t.Fatalf("SharePage of a personal video = %+v, %v", p, err)
	}
	// A video from before accounts has no owner.
	if p, err = s.SharePage(ctx, video(3).Slug); err != nil || p.OwnerName != "" {
		t.Fatalf("SharePage of an ownerless video = %+v, %v", p, err)
	}
	if _, err := s.SharePage(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SharePage(nope): %v", err)
	}
}
