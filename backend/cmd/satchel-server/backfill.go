package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"satchel.dev/backend/market"
	"satchel.dev/backend/postgres"
	"satchel.dev/backend/server"
)

// backfillEntries records where the files of every build finished before migration 0010 lie
// in its zip (builds.Service.BackfillEntries), reading the zips from the store the server of
// cfg uses, and prints one line per build. It fails if any build could not be backfilled;
// running it again does only what is left.
func backfillEntries(ctx context.Context, cfg server.Config, dsn string, log *slog.Logger, stdout io.Writer) error {
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	pipeline, err := server.OpenBuilds(ctx, cfg, db, log)
	if err != nil {
		return err
	}
	failed := 0
	done, err := pipeline.BackfillEntries(ctx, func(b market.Build, err error) {
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "build %s (release %s): not backfilled: %v\n", b.ID, b.ReleaseID, err)
			return
		}
		fmt.Fprintf(stdout, "build %s (release %s): backfilled\n", b.ID, b.ReleaseID)
	})
	if err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("backfill-entries: %d builds backfilled, %d failed (listed above)", done, failed)
	}
	fmt.Fprintf(stdout, "every build records where its files lie in its zip (%d backfilled now)\n", done)
	return nil
}
