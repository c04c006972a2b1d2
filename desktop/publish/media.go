package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	catalogv1 "satchel.dev/shared/api/satchel/catalog/v1"
	developerv1 "satchel.dev/shared/api/satchel/developer/v1"

	"satchel.dev/desktop/client"
)

// MaxImageBytes is the largest image the server takes (10 MiB).
const MaxImageBytes = 10 << 20

// ImageType returns the content type of an image file from its first bytes: image/png,
// image/jpeg or image/webp; an error naming the file for anything else.
func ImageType(path string, head []byte) (string, error) {
	switch t := http.DetectContentType(head); t {
	case "image/png", "image/jpeg", "image/webp":
		return t, nil
	}
	return "", fmt.Errorf("%s is not a PNG, JPEG or WebP image", path)
}

// UploadImage adds the image file at path to the game gameID of the developer c signs as:
// as its cover (replacing the cover it has), or as its last screenshot. It checks the file's
// type and size here, streams it to a fresh upload slot (hashing it first, never holding it
// whole), and has the server check it. Adding an image the game already shows changes
// nothing. It returns the game with its media.
func UploadImage(ctx context.Context, c *client.Client, hc *http.Client, gameID string, cover bool, path string) (*catalogv1.Game, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > MaxImageBytes {
		return nil, fmt.Errorf("%s has %d bytes; images may have up to 10 MiB: make it smaller", path, fi.Size())
	}
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	contentType, err := ImageType(path, head[:n])
	if err != nil {
		return nil, err
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, fi.Size())); err != nil {
		return nil, err
	}
	kind := catalogv1.MediaKind_MEDIA_KIND_SCREENSHOT
	if cover {
		kind = catalogv1.MediaKind_MEDIA_KIND_COVER
	}
	slot, err := c.Developer.CreateMediaUpload(ctx, &developerv1.CreateMediaUploadRequest{GameId: gameID, Kind: kind,
		SizeBytes: fi.Size(), Sha256: hex.EncodeToString(h.Sum(nil)), ContentType: contentType})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, slot.GetUrl(), io.NewSectionReader(f, 0, fi.Size()))
	if err != nil {
		return nil, err
	}
	req.ContentLength = fi.Size()
	for k, v := range slot.GetHeaders() {
		req.Header.Set(k, v)
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("uploading %s: %w (try again)", path, err)
	}
	msg, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		return nil, fmt.Errorf("uploading %s: the storage answered %s: %s", path, res.Status, strings.TrimSpace(string(msg)))
	}
	done, err := c.Developer.FinishMediaUpload(ctx, &developerv1.FinishMediaUploadRequest{UploadId: slot.GetUploadId()})
	var ce *client.Error
	switch {
	case errors.Is(err, client.ErrAlreadyExists):
		g, err := c.Developer.ListMyGames(ctx, &developerv1.ListMyGamesRequest{})
		if err != nil {
			return nil, err
		}
		for _, mg := range g.GetGames() {
			if mg.GetGame().GetId() == gameID {
				return mg.GetGame(), nil
			}
		}
		return nil, fmt.Errorf("game %s is gone", gameID)
	case errors.Is(err, client.ErrFailedPrecondition) && errors.As(err, &ce):
		return nil, fmt.Errorf("the server refused %s: %s", path, ce.Message)
	case err != nil:
		return nil, err
	}
	return done.GetGame(), nil
}
