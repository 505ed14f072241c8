package main

import (
	"errors"
	"sort"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errForward marks a request the native path leaves to the Python server, whose answer (result
// or error, in TF Serving's words) is the reference one.
var errForward = errors.New("forward to the Python server")

var errQueueFull = status.Error(codes.Unavailable,
	"The batch scheduling queue to which this task was submitted is full")
var errStopping = status.Error(codes.Unavailable,
	"The batch scheduler is stopping: the server is shutting down")

// batchingParameters are the fields of TF Serving's BatchingParameters the scheduler uses.
type batchingParameters struct {
	MaxBatchSize       int64   `json:"max_batch_size"`
	BatchTimeoutMicros int64   `json:"batch_timeout_micros"`
	NumBatchThreads    int     `json:"num_batch_threads"`
	MaxEnqueuedBatches int64   `json:"max_enqueued_batches"`
	AllowedBatchSizes  []int64 `json:"allowed_batch_sizes"`
}

// batchTask is one request waiting in a queue; `done` closes once outputs or err are set.
type batchTask struct {
	inputs   map[string]*denseTensor
	rows     int64
	enqueued time.Time
	done     chan struct{}
	outputs  map[string]*denseTensor
	err      error
}

// batchRun runs the tasks of one batch padded to `padded` rows and answers every task.
type batchRun func(tasks []*batchTask, rows, padded int64)

type batchQueue struct {
	tasks []*batchTask
	rows  int64
	run   batchRun
}

// scheduler mirrors serving.server.batching.BatchScheduler (TF Serving's shared batch
// scheduler): one queue per model version, signature and input layout; a batch closes when it
// holds max_batch_size rows or its oldest request has waited batch_timeout_micros, and is padded
// up to the next allowed batch size.
type scheduler struct {
	params  batchingParameters
	timeout time.Duration
	onBatch func(padded int64)
	mu      sync.Mutex
	queues  map[string]*batchQueue
	stopped bool
	wake    chan struct{}
	quit    chan struct{}
	workers sync.WaitGroup
}

func newScheduler(params batchingParameters, onBatch func(int64)) *scheduler {
	s := &scheduler{params: params, timeout: time.Duration(params.BatchTimeoutMicros) * time.Microsecond,
		onBatch: onBatch, queues: map[string]*batchQueue{}, wake: make(chan struct{}, 1),
		quit: make(chan struct{})}
	threads := params.NumBatchThreads
	if threads < 1 {
		threads = 1
	}
	for i := 0; i < threads; i++ {
		s.workers.Add(1)
		go s.work()
	}
	return s
}

func (s *scheduler) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// submit blocks until the batch holding the task has run. A task larger than a batch goes to the
// Python server, which refuses it in TF Serving's words.
func (s *scheduler) submit(key string, run batchRun, task *batchTask) error {
	if task.rows > s.params.MaxBatchSize {
		return errForward
	}
	task.enqueued = time.Now()
	task.done = make(chan struct{})
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return errStopping
	}
	queue := s.queues[key]
	if queue == nil {
		queue = &batchQueue{}
		s.queues[key] = queue
	}
	if queue.rows+task.rows > s.params.MaxEnqueuedBatches*s.params.MaxBatchSize {
		s.mu.Unlock()
		return errQueueFull
	}
	queue.run = run
	queue.tasks = append(queue.tasks, task)
	queue.rows += task.rows
	wake := len(queue.tasks) == 1 || queue.rows >= s.params.MaxBatchSize
	s.mu.Unlock()
	if wake {
		s.signal()
	}
	<-task.done
	return task.err
}

// readyBatch takes the oldest full or timed-out queue's batch; else returns how long to wait
// (negative: nothing queued). Called with mu held.
func (s *scheduler) readyBatch() (batchRun, []*batchTask, time.Duration) {
	now := time.Now()
	var best *batchQueue
	wait := time.Duration(-1)
	for _, queue := range s.queues {
		if len(queue.tasks) == 0 {
			continue
		}
		age := now.Sub(queue.tasks[0].enqueued)
		if queue.rows >= s.params.MaxBatchSize || age >= s.timeout {
			if best == nil || queue.tasks[0].enqueued.Before(best.tasks[0].enqueued) {
				best = queue
			}
		} else if left := s.timeout - age; wait < 0 || left < wait {
			wait = left
		}
	}
	if best == nil {
		return nil, nil, wait
	}
	rows, taken := int64(0), 0
	for taken < len(best.tasks) && rows+best.tasks[taken].rows <= s.params.MaxBatchSize {
		rows += best.tasks[taken].rows
		taken++
	}
	tasks := append([]*batchTask(nil), best.tasks[:taken]...)
	best.tasks = best.tasks[taken:]
	best.rows -= rows
	return best.run, tasks, 0
}

func (s *scheduler) work() {
	defer s.workers.Done()
	for {
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			return
		}
		run, tasks, wait := s.readyBatch()
		more := false
		if run != nil {
			for _, queue := range s.queues {
				more = more || len(queue.tasks) > 0
			}
		}
		s.mu.Unlock()
		if run == nil {
			if wait < 0 {
				select {
				case <-s.wake:
				case <-s.quit:
				}
			} else {
				timer := time.NewTimer(wait)
				select {
				case <-s.wake:
				case <-timer.C:
				case <-s.quit:
				}
				timer.Stop()
			}
			continue
		}
		if more {
			s.signal() // another idle batch thread takes what is left
		}
		rows := int64(0)
		for _, task := range tasks {
			rows += task.rows
		}
		run(tasks, rows, s.padded(rows))
		for _, task := range tasks {
			close(task.done)
		}
	}
}

func (s *scheduler) padded(rows int64) int64 {
	allowed := s.params.AllowedBatchSizes
	if len(allowed) == 0 {
		return rows
	}
	i := sort.Search(len(allowed), func(i int) bool { return allowed[i] >= rows })
	if i == len(allowed) {
		i = len(allowed) - 1
	}
	return allowed[i]
}

// close answers every queued task UNAVAILABLE and ends the workers after their running batch.
func (s *scheduler) close() {
	s.mu.Lock()
	s.stopped = true
	var abandoned []*batchTask
	for _, queue := range s.queues {
		abandoned = append(abandoned, queue.tasks...)
		queue.tasks, queue.rows = nil, 0
	}
	s.mu.Unlock()
	close(s.quit)
	for _, task := range abandoned {
		task.err = errStopping
		close(task.done)
	}
	s.workers.Wait()
}
