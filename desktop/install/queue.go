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

// space is the disk space promised to the installs of this installer under way, by game, so
// that installs downloading at once (MaxDownloads above 1) do not each count the same free
// space: each is promised what it needs when it checks, and gives it back when it ends.
type space struct {
	mu       sync.Mutex
	promised map[string]int64 // by game slug
	waiting  int              // installs waiting for another to end before they check again
	ended    chan struct{}    // closed, and replaced, when an install gives its promise back
}

func newSpace() *space { return &space{promised: map[string]int64{}, ended: make(chan struct{})} }

// promise promises slug need bytes of the free space that free reports, less what the other
// installs were promised. When that is too little while other installs hold promises, it waits
// for one of them to end and checks again (what they wrote is then counted by free); when no
// other install holds one it returns refuse(free), or ctx's error when ctx ends first. A
// second promise to slug replaces the first. The other installs' promises are counted whole,
// though free no longer counts what they have written: an install may wait for them to end
// where it would fit already, never start where it would not.
func (s *space) promise(ctx context.Context, slug string, need int64, free func() (int64, error), refuse func(free int64) error) error {
	for {
		have, err := free() // not under mu: a slow disk must not hold up the installs that end
		if err != nil {
			return err
		}
		s.mu.Lock()
		others := int64(0)
		for game, n := range s.promised {
			if game != slug {
				others += n
			}
		}
		if have-others >= need {
			s.promised[slug] = need
			s.mu.Unlock()
			return nil
		}
		if others == 0 {
			s.mu.Unlock()
			return refuse(have)
		}
		ended := s.ended
		s.waiting++
		s.mu.Unlock()
		select {
		case <-ended:
		case <-ctx.Done():
		}
		s.mu.Lock()
		s.waiting--
		s.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// end gives back slug's promise, if it has one, and wakes the installs waiting for space.
func (s *space) end(slug string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.promised[slug]; !ok {
		return
	}
	delete(s.promised, slug)
	close(s.ended)
	s.ended = make(chan struct{})
}
