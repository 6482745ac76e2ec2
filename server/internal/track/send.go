package track

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html"
	"net/mail"
	"strings"
	"unicode/utf8"

	fcmail "framecast.dev/server/internal/mail"
	"framecast.dev/server/internal/secrets"
	"framecast.dev/server/internal/store"
)

// Sending a video by e-mail: each recipient is mailed the video's moving
// preview (public videos) or a plain link, with List-Unsubscribe. At level
// Full the link is personal (?r=secret), so the owner sees what each
// recipient's views did; at Anonymous or Off it is the plain share link
// and nothing per recipient is kept. Recipients who unsubscribed are
// never mailed by this sender again (kept as hashes of their address).

// MaxRecipients bounds one send.
const MaxRecipients = 50

// SendInput is one send, as the owner typed it and the share side built it.
type SendInput struct {
	Owner      store.User
	Video      store.Video
	Title      string
	Recipients string // addresses separated by commas, semicolons or lines
	Note       string
	ShareURL   string
	// GIF preview, for public videos once made ("" otherwise).
	GIFURL              string
	GIFWidth, GIFHeight int
	Duration            string
}

// SendResult says what happened.
type SendResult struct {
	Sent         int
	Unsubscribed []string // skipped: they unsubscribed
	Personal     bool     // the links were personal (level Full)
}

// ParseRecipients splits and checks a list of addresses (lower-cased,
// each once).
func ParseRecipients(raw string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '\r' || r == ' ' || r == '\t' }) {
		a, err := mail.ParseAddress(f)
		if err != nil || a.Name != "" || !strings.Contains(a.Address, "@") || len(a.Address) > 254 {
			return nil, invalid("%q is not an e-mail address.", truncate(f, 80))
		}
		addr := strings.ToLower(a.Address)
		if !seen[addr] {
			seen[addr] = true
			out = append(out, addr)
		}
	}
	if len(out) == 0 {
		return nil, invalid("Give at least one e-mail address.")
	}
	if len(out) > MaxRecipients {
		return nil, invalid("At most %d recipients at once.", MaxRecipients)
	}
	return out, nil
}

// AddressHash is how an unsubscribed address is kept.
func AddressHash(addr string) string {
	h := sha256.Sum256([]byte("framecast mail address\x00" + strings.ToLower(strings.TrimSpace(addr))))
	return hex.EncodeToString(h[:])
}

// UnsubscribeToken is the recipient's one-click unsubscribe secret: the
// address and a MAC, so nothing needs to be kept per recipient.
func (s *Service) UnsubscribeToken(addr string) string {
	enc := base64.RawURLEncoding.EncodeToString([]byte(addr))
	return enc + "." + s.unsubscribeMAC(addr)
}

func (s *Service) unsubscribeMAC(addr string) string {
	m := hmac.New(sha256.New, s.unsubKey)
	m.Write([]byte("recipient unsubscribe\x00" + addr))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// Unsubscribe records the address a token names as never to be mailed
// again by the send sender.
func (s *Service) Unsubscribe(ctx context.Context, token string) error {
	enc, mac, ok := strings.Cut(token, ".")
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if !ok || err != nil || len(b) > 254 || !utf8.Valid(b) || !hmac.Equal([]byte(mac), []byte(s.unsubscribeMAC(string(b)))) {
		return invalid("This unsubscribe link is not valid.")
	}
	if err := s.store.SuppressMail(ctx, AddressHash(string(b)), s.now()); err != nil {
		return err
	}
	s.log.Info("a recipient unsubscribed from sent videos")
	return nil
}

// RecipientTokenHash is how a personal link's secret is kept.
func RecipientTokenHash(token string) string {
	return secrets.Hash(token)
}

// Send mails a video to recipients.
func (s *Service) Send(ctx context.Context, in SendInput) (SendResult, error) {
	if s.mail == nil {
		return SendResult{}, fmt.Errorf("send video: no mail sender")
	}
	addrs, err := ParseRecipients(in.Recipients)
	if err != nil {
		return SendResult{}, err
	}
	note := strings.TrimSpace(strings.ReplaceAll(in.Note, "\r\n", "\n"))
	if utf8.RuneCountInString(note) > 2000 || !utf8.ValidString(note) {
		return SendResult{}, invalid("The note is longer than 2000 characters.")
	}
	level, err := s.Level(ctx, in.Video.ID)
	if err != nil {
		return SendResult{}, err
	}
	hashes := make([]string, len(addrs))
	for i, a := range addrs {
		hashes[i] = AddressHash(a)
	}
	suppressed, err := s.store.MailSuppressed(ctx, hashes)
	if err != nil {
		return SendResult{}, err
	}
	res := SendResult{Personal: level == store.TrackFull}
	var recipients []store.TrackRecipient
	var msgs []fcmail.Message
	now := s.now()
	for i, addr := range addrs {
		if suppressed[hashes[i]] {
			res.Unsubscribed = append(res.Unsubscribed, addr)
			continue
		}
		link := in.ShareURL
		if res.Personal {
			tok := secrets.Random(20)
			link += "?r=" + tok
			recipients = append(recipients, store.TrackRecipient{ID: secrets.NewID(), VideoID: in.Video.ID, Email: addr,
				TokenHash: RecipientTokenHash(tok), SentAt: now})
		}
		msgs = append(msgs, s.sendMail(in, addr, link, note))
	}
	if len(recipients) > 0 {
		if err := s.store.AddRecipients(ctx, recipients); err != nil {
			return SendResult{}, err
		}
	}
	for _, m := range msgs {
		s.mail(m)
	}
	res.Sent = len(msgs)
	s.log.Info("video sent by e-mail", "video_id", in.Video.ID, "recipients", res.Sent, "unsubscribed", len(res.Unsubscribed), "personal_links", res.Personal)
	return res, nil
}

func (s *Service) sendMail(in SendInput, addr, link, note string) fcmail.Message {
	from := in.Owner.Name
	if from == "" {
		from = in.Owner.Email
	}
	text := fmt.Sprintf("%s sent you a video: %s\n\n", from, in.Title)
	if note != "" {
		text += note + "\n\n"
	}
	text += "Watch it: " + link + "\n"
	h := html.EscapeString
	body := fmt.Sprintf(`<p>%s sent you a video:</p>`, h(from))
	if note != "" {
		body += `<p>` + strings.ReplaceAll(h(note), "\n", "<br>") + `</p>`
	}
	if in.GIFURL != "" {
		body += fmt.Sprintf(`<p><a href="%s"><img src="%s" width="%d" height="%d" alt="%s"></a></p>`,
			h(link), h(in.GIFURL), in.GIFWidth, in.GIFHeight, h("▶ "+in.Title+" ("+in.Duration+")"))
	}
	body += fmt.Sprintf(`<p><a href="%s">%s</a></p>`, h(link), h("▶ Watch “"+in.Title+"”"))
	// The sender's mail: deleting their account cancels what is queued.
	return fcmail.Message{To: addr, UserID: in.Owner.ID, Kind: "video-sent", Subject: fmt.Sprintf("%s sent you a video: %s", from, in.Title),
		Text: text, HTML: body, Unsubscribe: s.baseURL + "/unsubscribe/r/" + s.UnsubscribeToken(addr)}
}

// Recipients lists what each recipient's views did (Full only).
func (s *Service) Recipients(ctx context.Context, videoID string) ([]store.RecipientStats, error) {
	return s.store.RecipientStats(ctx, videoID)
}
