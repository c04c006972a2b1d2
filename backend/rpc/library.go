package rpc

import (
	"context"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"satchel.dev/backend/builds"
	"satchel.dev/backend/market"
	"satchel.dev/backend/purchases"
	libraryv1 "satchel.dev/shared/api/satchel/library/v1"
	"satchel.dev/shared/api/satchel/library/v1/libraryv1connect"
)

type libraryHandler struct {
	builds    *builds.Service
	purchases *purchases.Service
}

func (h libraryHandler) GetDownload(ctx context.Context, req *libraryv1.GetDownloadRequest) (*libraryv1.GetDownloadResponse, error) {
	guest := ""
	if code := req.GetReceiptCode(); code != "" {
		if err := market.ValidateID("game_id", req.GetGameId()); err != nil {
			return nil, err
		}
		var err error
		if guest, err = h.purchases.EntitlementByReceipt(ctx, code, req.GetGameId(), client(ctx)); err != nil {
			return nil, err
		}
	}
	d, err := h.builds.GetDownload(ctx, actor(ctx), req.GetGameId(), req.GetReleaseId(),
		builds.DownloadOptions{GuestEntitlement: guest, Preview: req.GetPreview()}, client(ctx))
	if err != nil {
		return nil, err
	}
	b := d.Release.Build
	out := &libraryv1.GetDownloadResponse{
		ReleaseId: d.Release.ID, Version: d.Release.Version, Url: d.URL, Sha256: b.SHA256, SizeBytes: b.SizeBytes,
	}
	if d.URL != "" {
		out.ExpiresAt = timestamppb.New(d.ExpiresAt)
	}
	for _, f := range b.Files {
		mf := &libraryv1.ManifestFile{Path: f.Path, SizeBytes: f.SizeBytes, Mode: f.Mode, Sha256: f.SHA256}
		if f.Located() {
			mf.Entry = &libraryv1.ZipEntry{HeaderOffset: f.HeaderOffset, DataOffset: f.DataOffset, CompressedSizeBytes: f.CompressedBytes,
				Method: zipMethods[f.Method], Crc32: f.CRC32}
		}
		out.Files = append(out.Files, mf)
	}
	return out, nil
}

// zipMethods maps a zip compression method to the API's.
var zipMethods = map[uint16]libraryv1.ZipEntry_Method{0: libraryv1.ZipEntry_METHOD_STORE, 8: libraryv1.ZipEntry_METHOD_DEFLATE}

func (h libraryHandler) ListLibrary(ctx context.Context, _ *libraryv1.ListLibraryRequest) (*libraryv1.ListLibraryResponse, error) {
	games, token, err := h.purchases.Library(ctx, actor(ctx))
	if err != nil {
		return nil, err
	}
	out := &libraryv1.ListLibraryResponse{ResumeToken: token}
	for _, g := range games {
		out.Games = append(out.Games, libraryGameToProto(g))
	}
	return out, nil
}

func (h libraryHandler) WatchLibrary(ctx context.Context, req *libraryv1.WatchLibraryRequest, stream *connect.ServerStream[libraryv1.WatchLibraryResponse]) error {
	token := req.GetResumeToken()
	if token == "" {
		// From now: the latest change, read before the stream starts listening, so a change
		// made once the client has the first message is never missed.
		var err error
		if _, token, err = h.purchases.Library(ctx, actor(ctx)); err != nil {
			return err
		}
	} else if err := market.RequireUser(actor(ctx)); err != nil {
		return err
	}
	if err := stream.Send(&libraryv1.WatchLibraryResponse{ResumeToken: token}); err != nil {
		return err
	}
	return h.purchases.WatchLibrary(ctx, actor(ctx), token, func(c market.LibraryChange) error {
		change := &libraryv1.LibraryChange{
			Kind:        changeKinds[c.Kind],
			ResumeToken: formatToken(c.ID),
			Game:        &libraryv1.LibraryGame{GameId: c.GameID, Slug: c.Slug},
			ChangedAt:   timestamppb.New(c.At),
		}
		if c.Game != nil {
			change.Game = libraryGameToProto(*c.Game)
		}
		return stream.Send(&libraryv1.WatchLibraryResponse{Change: change})
	})
}

var changeKinds = map[market.LibraryChangeKind]libraryv1.LibraryChange_Kind{
	market.ChangeGranted:   libraryv1.LibraryChange_KIND_ENTITLEMENT_GRANTED,
	market.ChangeRevoked:   libraryv1.LibraryChange_KIND_ENTITLEMENT_REVOKED,
	market.ChangePublished: libraryv1.LibraryChange_KIND_RELEASE_PUBLISHED,
}

func libraryGameToProto(g market.LibraryGame) *libraryv1.LibraryGame {
	out := &libraryv1.LibraryGame{EntitlementId: g.EntitlementID, GameId: g.GameID, Slug: g.Slug, Title: g.Title,
		GrantedAt: timestamppb.New(g.GrantedAt)}
	if r := g.Latest; r != nil && r.Build != nil {
		out.LatestRelease = &libraryv1.LatestRelease{ReleaseId: r.ID, Version: r.Version, Sha256: r.Build.SHA256,
			SizeBytes: r.Build.SizeBytes, PublishedAt: optionalTime(r.PublishedAt)}
	}
	return out
}

var _ libraryv1connect.LibraryServiceHandler = libraryHandler{}
