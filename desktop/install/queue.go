package install

import (
	"context"
	"sort"
	"sync"
)

// Job is an install in the installer's queue. Downloads run MaxDownloads at a time (one by
// default), in the order they were queued; the rest of an install (extract, switch) does not
// wait for the queue.
type Job struct {
	Game      Game
	ReleaseID string // "" for the latest release

	cancel context.CancelFunc
	done   chan struct{}

	mu   sync.Mutex
	last Progress
	res  Result
	err  error
}

// Enqueue queues an install of g (see Install) and returns its job at once. If g is already
// queued or installing, it returns that job. The job runs until it ends, ctx ends or Cancel;
// onProgress (which may be nil) gets every progress report of it.
func (in *Installer) Enqueue(ctx context.Context, g Game, releaseID string, onProgress func(Progress)) *Job {
	in.mu.Lock()
	defer in.mu.Unlock()
	if j := in.jobs[g.Slug]; j != nil {
		return j
	}
	ctx, cancel := context.WithCancel(ctx)
	j := &Job{Game: g, ReleaseID: releaseID, cancel: cancel, done: make(chan struct{}),
		last: Progress{Slug: g.Slug, Phase: PhaseQueued}}
	in.jobs[g.Slug] = j
	report := func(p Progress) {
		j.mu.Lock()
		j.last = p
		j.mu.Unlock()
		if onProgress != nil {
			onProgress(p)
		}
	}
	report(j.last)
	go func() {
		defer cancel()
		res, err := in.Install(ctx, g, releaseID, report)
		in.mu.Lock()
		delete(in.jobs, g.Slug)
		in.mu.Unlock()
		j.mu.Lock()
		j.res, j.err = res, err
		j.mu.Unlock()
		close(j.done)
	}()
	return j
}

// Jobs returns the queued and running jobs, by slug.
func (in *Installer) Jobs() []*Job {
	in.mu.Lock()
	defer in.mu.Unlock()
	out := make([]*Job, 0, len(in.jobs))
	for _, j := range in.jobs {
		out = append(out, j)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Game.Slug < out[b].Game.Slug })
	return out
}

// Progress is the job's latest progress report.
func (j *Job) Progress() Progress {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.last
}

// Done is closed when the job has ended.
func (j *Job) Done() <-chan struct{} { return j.done }

// Wait waits for the job to end, or for ctx, and returns its result.
func (j *Job) Wait(ctx context.Context) (Result, error) {
	select {
	case <-j.done:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.res, j.err
}

// Cancel stops the job; a partial download is kept for the next install to resume.
func (j *Job) Cancel() { j.cancel() }
