package rpc

import (
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"satchel.dev/backend/market"
	accountv1 "satchel.dev/shared/api/satchel/account/v1"
	catalogv1 "satchel.dev/shared/api/satchel/catalog/v1"
	"satchel.dev/shared/nostr"
)

var statusToProto = map[market.GameStatus]catalogv1.GameStatus{
	market.StatusDraft:    catalogv1.GameStatus_GAME_STATUS_DRAFT,
	market.StatusUnlisted: catalogv1.GameStatus_GAME_STATUS_UNLISTED,
	market.StatusListed:   catalogv1.GameStatus_GAME_STATUS_LISTED,
	market.StatusFeatured: catalogv1.GameStatus_GAME_STATUS_FEATURED,
	market.StatusBanned:   catalogv1.GameStatus_GAME_STATUS_BANNED,
}

// statusFromProto returns the domain status; UNSPECIFIED and unknown values become "", which
// the domain refuses as invalid.
func statusFromProto(s catalogv1.GameStatus) market.GameStatus {
	for k, v := range statusToProto {
		if v == s {
			return k
		}
	}
	return ""
}

func gameToProto(g market.Game) *catalogv1.Game {
	out := &catalogv1.Game{
		Id:                   g.ID,
		Slug:                 g.Slug,
		Title:                g.Title,
		Summary:              g.Summary,
		DescriptionMd:        g.DescriptionMD,
		PriceMsat:            g.PriceMsat,
		Status:               statusToProto[g.Status],
		DeveloperPubkey:      g.DeveloperPubkey,
		DeveloperDisplayName: g.DeveloperName,
		DeveloperStudioName:  g.DeveloperStudio,
		CreatedAt:            timestamppb.New(g.CreatedAt),
		UpdatedAt:            timestamppb.New(g.UpdatedAt),
	}
	if g.LatestRelease != nil {
		out.LatestRelease = releaseToProto(*g.LatestRelease)
	}
	if g.Cover != nil {
		out.Cover = mediaToProto(*g.Cover)
	}
	for _, m := range g.Screenshots {
		out.Screenshots = append(out.Screenshots, mediaToProto(m))
	}
	return out
}

var mediaKinds = map[market.MediaKind]catalogv1.MediaKind{
	market.MediaCover:      catalogv1.MediaKind_MEDIA_KIND_COVER,
	market.MediaScreenshot: catalogv1.MediaKind_MEDIA_KIND_SCREENSHOT,
}

// mediaKindFromProto returns the domain kind; UNSPECIFIED and unknown values become "", which
// the domain refuses as invalid.
func mediaKindFromProto(k catalogv1.MediaKind) market.MediaKind {
	for d, p := range mediaKinds {
		if p == k {
			return d
		}
	}
	return ""
}

func mediaToProto(m market.Media) *catalogv1.Media {
	return &catalogv1.Media{Id: m.ID, Kind: mediaKinds[m.Kind], Path: m.Path(), ContentType: m.ContentType, Sha256: m.SHA256,
		SizeBytes: m.SizeBytes, Width: int32(m.Width), Height: int32(m.Height)}
}

func releaseToProto(r market.Release) *catalogv1.Release {
	out := &catalogv1.Release{
		Id:             r.ID,
		GameId:         r.GameID,
		Version:        r.Version,
		ReleaseNotesMd: r.NotesMD,
		PublishedAt:    optionalTime(r.PublishedAt),
		CreatedAt:      timestamppb.New(r.CreatedAt),
	}
	if b := r.Build; b != nil {
		out.Build = &catalogv1.Build{Sha256: b.SHA256, SizeBytes: b.SizeBytes, FileCount: b.FileCount,
			InstalledBytes: b.InstalledBytes, CreatedAt: timestamppb.New(b.CreatedAt)}
	}
	return out
}

func releasesToProto(rs []market.Release) []*catalogv1.Release {
	out := make([]*catalogv1.Release, len(rs))
	for i, r := range rs {
		out[i] = releaseToProto(r)
	}
	return out
}

func optionalTime(t *time.Time) *timestamppb.Timestamp {
	if t == nil {
		return nil
	}
	return timestamppb.New(*t)
}

func userToProto(u market.User, admin bool) *accountv1.User {
	out := &accountv1.User{
		Pubkey:      u.Pubkey,
		DisplayName: u.DisplayName,
		AvatarUrl:   u.AvatarURL,
		IsAdmin:     admin,
		CreatedAt:   timestamppb.New(u.CreatedAt),
	}
	if pk, err := nostr.ParsePublicKey(u.Pubkey); err == nil {
		out.Npub = pk.Npub()
	}
	if u.Developer != nil {
		out.Developer = &accountv1.DeveloperProfile{PayoutLnAddress: u.Developer.PayoutLNAddress, StudioName: u.Developer.StudioName}
	}
	return out
}
