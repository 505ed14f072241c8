package main

import (
	"encoding/json"
	"sort"
	"sync"
	"time"
)

// versionStats aggregates the Predicts answered here for one model, version and label since the
// last drain, in the Python server's buckets (serving.server.metrics), which merges them into its
// own families at every scrape: the metrics contract stays the Python server's.
type versionStats struct {
	Model          string           `json:"model"`
	Version        string           `json:"version"`
	Label          string           `json:"label"`
	Count          int64            `json:"count"`
	Errors         map[string]int64 `json:"errors"`
	LatencyBuckets []int64          `json:"latency_buckets"`
	LatencySum     float64          `json:"latency_sum_s"`
	TFBuckets      []int64          `json:"tf_latency_buckets"`
	TFSum          float64          `json:"tf_latency_sum_us"`
	RuntimeBuckets []int64          `json:"runtime_buckets"`
	RuntimeSum     float64          `json:"runtime_sum_us"`
}

type nativeMetrics struct {
	mu             sync.Mutex
	latencyBuckets []float64
	tfBuckets      []float64
	batchBuckets   []float64
	stats          map[[3]string]*versionStats
	batchCounts    []int64
	batchSum       float64
}

func newNativeMetrics(config frontendConfig) *nativeMetrics {
	return &nativeMetrics{latencyBuckets: config.LatencyBuckets, tfBuckets: config.TFBuckets,
		batchBuckets: config.BatchBuckets, stats: map[[3]string]*versionStats{},
		batchCounts: make([]int64, len(config.BatchBuckets)+1)}
}

// prometheusBucket is prometheus_client's: the first bucket whose upper bound is >= the value.
func prometheusBucket(bounds []float64, value float64) int {
	return sort.Search(len(bounds), func(i int) bool { return bounds[i] >= value })
}

// tfBucket is TensorFlow's Histogram::Add: the first bucket whose limit is above the value.
func tfBucket(bounds []float64, value float64) int {
	return sort.Search(len(bounds), func(i int) bool { return bounds[i] > value })
}

func (m *nativeMetrics) entry(model, version, label string) *versionStats {
	key := [3]string{model, version, label}
	s := m.stats[key]
	if s == nil {
		s = &versionStats{Model: model, Version: version, Label: label, Errors: map[string]int64{},
			LatencyBuckets: make([]int64, len(m.latencyBuckets)+1),
			TFBuckets:      make([]int64, len(m.tfBuckets)+1),
			RuntimeBuckets: make([]int64, len(m.tfBuckets)+1)}
		m.stats[key] = s
	}
	return s
}

func (m *nativeMetrics) success(model, version, label string, latency, runtime time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.entry(model, version, label)
	s.Count++
	seconds := latency.Seconds()
	s.LatencyBuckets[prometheusBucket(m.latencyBuckets, seconds)]++
	s.LatencySum += seconds
	micros := seconds * 1e6
	s.TFBuckets[tfBucket(m.tfBuckets, micros)]++
	s.TFSum += micros
	runtimeMicros := runtime.Seconds() * 1e6
	s.RuntimeBuckets[tfBucket(m.tfBuckets, runtimeMicros)]++
	s.RuntimeSum += runtimeMicros
}

func (m *nativeMetrics) failure(model, version, label, code string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.entry(model, version, label)
	s.Count++
	s.Errors[upperSnake(code)]++
}

func (m *nativeMetrics) batch(padded int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batchCounts[prometheusBucket(m.batchBuckets, float64(padded))]++
	m.batchSum += float64(padded)
}

// drain returns what was counted since the last drain, as JSON, and starts again from zero.
func (m *nativeMetrics) drain() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := struct {
		Requests    []*versionStats `json:"requests"`
		BatchCounts []int64         `json:"batch_size_buckets"`
		BatchSum    float64         `json:"batch_size_sum"`
	}{Requests: []*versionStats{}, BatchCounts: m.batchCounts, BatchSum: m.batchSum}
	for _, s := range m.stats {
		out.Requests = append(out.Requests, s)
	}
	m.stats = map[[3]string]*versionStats{}
	m.batchCounts = make([]int64, len(m.batchBuckets)+1)
	m.batchSum = 0
	text, _ := json.Marshal(out)
	return string(text)
}

// upperSnake turns gRPC's code names (Unavailable, InvalidArgument) into the Python server's
// StatusCode names (UNAVAILABLE, INVALID_ARGUMENT).
func upperSnake(code string) string {
	out := make([]byte, 0, len(code)+4)
	for i := 0; i < len(code); i++ {
		c := code[i]
		if c >= 'A' && c <= 'Z' {
			if i > 0 {
				out = append(out, '_')
			}
			out = append(out, c)
		} else {
			out = append(out, c-'a'+'A')
		}
	}
	return string(out)
}
