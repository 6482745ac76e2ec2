package store

import "context"

// PrivacyCentre is the part of Store the privacy centre needs beyond the
// account methods: handing videos over and removing what refers to a
// user without a foreign key (invitations by address, rate-limit keys).
type PrivacyCentre interface {
	// SetVideoOwner gives a video to another user (a workspace owner
	// taking over the videos a deleted member left in its library).
	SetVideoOwner(ctx context.Context, id, ownerID string) error
	// DeleteInvitationsTo drops every invitation, open or accepted, sent
	// to the address: the address is the invitee's personal data.
	DeleteInvitationsTo(ctx context.Context, emailNorm string) error
	// DeleteRateLimits drops the counters of the given keys.
	DeleteRateLimits(ctx context.Context, keys []string) error
}
