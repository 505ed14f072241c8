// Package main is the native gRPC front end of `tfxp serve --grpc_frontend=native`: a C shared
// library the Python model server loads (serving/server/native/__init__.py). It owns the public
// gRPC port, answers PredictionService/Predict for the versions the Python server has made
// AVAILABLE through TensorFlow's C API sessions and its own batching, and hands every other call
// (other methods, labels it does not know, inputs it does not decode, TensorFlow errors) as raw
// bytes to the Python server on a private UNIX socket, so errors and every other API keep one
// implementation. Why: the Python server is bound by its interpreter lock under load (issue 22,
// item 9).
package main

/*
#include <stdlib.h>
#include "tensorflow/c/c_api.h"
*/
import "C"

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"

	apis "tfxp/serving/native/pb/apis"
	framework "tfxp/serving/native/pb/framework"
)

const predictMethod = "/tensorflow.serving.PredictionService/Predict"
const defaultSignature = "serving_default"

// streamWorkers is how many goroutines serve streams and keep their grown stacks between calls
// (beyond them grpc-go starts one per stream): without them every Predict grew a fresh
// goroutine's stack: 4-9% of the server's CPU per request with 16 batched clients
// (150.6 and 150.7 us without, 140.8-145.1 with 16, 32 or 64 workers, measured side by side).
const streamWorkers = 32

// rawCodec passes *[]byte through untouched (the proxy and Predict's own decoding) and marshals
// anything else as protobuf (the health service).
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.(*[]byte); ok {
		return *b, nil
	}
	return proto.Marshal(v.(proto.Message))
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	if b, ok := v.(*[]byte); ok {
		*b = append([]byte(nil), data...)
		return nil
	}
	return proto.Unmarshal(data, v.(proto.Message))
}

func (rawCodec) Name() string { return "proto" }

type tlsConfig struct {
	Key               string `json:"server_key"`
	Cert              string `json:"server_cert"`
	Roots             string `json:"roots"`
	RequireClientCert bool   `json:"require_client_cert"`
}

type frontendConfig struct {
	Addresses      []string            `json:"addresses"`
	Backend        string              `json:"backend"`
	TLS            *tlsConfig          `json:"tls"`
	Batching       *batchingParameters `json:"batching"`
	LatencyBuckets []float64           `json:"latency_buckets_s"`
	TFBuckets      []float64           `json:"tf_serving_buckets_us"`
	BatchBuckets   []float64           `json:"batch_size_buckets"`
	SessionConfig  []byte              `json:"session_config"`
}

type tensorSpec struct {
	Tensor string `json:"tensor"`
	Dtype  int32  `json:"dtype"`
}

type signatureSpec struct {
	Batchable bool                  `json:"batchable"`
	Inputs    map[string]tensorSpec `json:"inputs"`
	Outputs   map[string]tensorSpec `json:"outputs"`
}

type versionSpec struct {
	Version    int64                    `json:"version"`
	Path       string                   `json:"path"`
	Tags       []string                 `json:"tags"`
	Signatures map[string]signatureSpec `json:"signatures"`
	// Warmup holds the serialized PredictRequests of the version's warmup file (replayed
	// WarmupIterations times each before the version is answered here).
	Warmup           [][]byte `json:"warmup"`
	WarmupIterations int      `json:"warmup_iterations"`
}

type modelSpec struct {
	Labels   map[string]int64 `json:"labels"`
	Versions []versionSpec    `json:"versions"`
}

// loadedVersion is one version's session and its resolved signatures; requests hold `inUse`
// (read) while they run so a retired version closes only after them.
type loadedVersion struct {
	key        string
	version    int64
	session    *session
	signatures map[string]*loadedSignature
	inUse      sync.RWMutex
}

type loadedSignature struct {
	name       string
	batchable  bool
	inputKeys  []string
	inputs     map[string]tensorSpec
	feeds      map[string]C.TF_Output
	outputKeys []string
	outputs    map[string]tensorSpec
	fetches    map[string]C.TF_Output
}

// servedModel is what the Python server serves of one model now: its AVAILABLE versions (the
// newest is the default) and labels, with the sessions loaded natively so far.
type servedModel struct {
	latest   int64
	versions map[int64]*loadedVersion // nil value: AVAILABLE in Python, not loaded here yet
	keys     map[int64]string         // the versionKey (folder included) each number is served from
	labels   map[string]int64
	labelOf  map[int64]string
}

type frontend struct {
	config    frontendConfig
	backend   *grpc.ClientConn
	servers   []*grpc.Server
	scheduler *scheduler
	models    atomic.Pointer[map[string]*servedModel]
	loadMu    sync.Mutex
	loaded    map[string]*loadedVersion
	loading   map[string]bool
	metrics   *nativeMetrics
}

var current struct {
	sync.Mutex
	f *frontend
}

func versionKey(name string, v versionSpec) string {
	return fmt.Sprintf("%s\x00%d\x00%s", name, v.Version, v.Path)
}

func cString(text string) *C.char { return C.CString(text) }

//export TfxpNativeStart
func TfxpNativeStart(configJSON *C.char) *C.char {
	current.Lock()
	defer current.Unlock()
	if current.f != nil {
		return cString("the native front end is already running in this process")
	}
	var config frontendConfig
	if err := json.Unmarshal([]byte(C.GoString(configJSON)), &config); err != nil {
		return cString("bad front end config: " + err.Error())
	}
	f, err := start(config)
	if err != nil {
		return cString(err.Error())
	}
	current.f = f
	return nil
}

//export TfxpNativeSetModels
func TfxpNativeSetModels(modelsJSON *C.char) *C.char {
	current.Lock()
	f := current.f
	current.Unlock()
	if f == nil {
		return cString("the native front end is not running")
	}
	var models map[string]modelSpec
	if err := json.Unmarshal([]byte(C.GoString(modelsJSON)), &models); err != nil {
		return cString("bad models snapshot: " + err.Error())
	}
	f.setModels(models)
	return nil
}

//export TfxpNativeMetrics
func TfxpNativeMetrics() *C.char {
	current.Lock()
	f := current.f
	current.Unlock()
	if f == nil {
		return cString("{}")
	}
	return cString(f.metrics.drain())
}

//export TfxpNativeStop
func TfxpNativeStop() {
	current.Lock()
	f := current.f
	current.f = nil
	current.Unlock()
	if f != nil {
		f.stop()
	}
}

//export TfxpFree
func TfxpFree(p *C.char) { C.free(unsafe.Pointer(p)) }

func serverCredentials(config *tlsConfig) (credentials.TransportCredentials, error) {
	pair, err := tls.X509KeyPair([]byte(config.Cert), []byte(config.Key))
	if err != nil {
		return nil, fmt.Errorf("--ssl_config_file: server_key/server_cert: %v", err)
	}
	settings := &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	if config.Roots != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(config.Roots)) {
			return nil, errors.New("--ssl_config_file: custom_ca holds no PEM certificate")
		}
		settings.ClientCAs = pool
		settings.ClientAuth = tls.RequestClientCert
	}
	if config.RequireClientCert {
		settings.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return credentials.NewTLS(settings), nil
}

func listen(address string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(address, "unix:"); ok {
		if info, err := os.Stat(path); err == nil && info.Mode()&os.ModeSocket != 0 {
			os.Remove(path) // a stale socket, as gRPC core unlinks it before binding
		}
		return net.Listen("unix", path)
	}
	return net.Listen("tcp", address)
}

func start(config frontendConfig) (*frontend, error) {
	backend, err := grpc.NewClient(config.Backend,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}),
			grpc.MaxCallRecvMsgSize(math.MaxInt32), grpc.MaxCallSendMsgSize(math.MaxInt32)))
	if err != nil {
		return nil, fmt.Errorf("backend %s: %v", config.Backend, err)
	}
	f := &frontend{config: config, backend: backend, loaded: map[string]*loadedVersion{},
		loading: map[string]bool{}, metrics: newNativeMetrics(config)}
	empty := map[string]*servedModel{}
	f.models.Store(&empty)
	if config.Batching != nil {
		f.scheduler = newScheduler(*config.Batching, f.metrics.batch)
	}
	options := []grpc.ServerOption{grpc.ForceServerCodec(rawCodec{}),
		grpc.UnknownServiceHandler(f.handle),
		grpc.MaxRecvMsgSize(math.MaxInt32), grpc.MaxSendMsgSize(math.MaxInt32),
		grpc.NumStreamWorkers(streamWorkers)}
	if config.TLS != nil {
		creds, err := serverCredentials(config.TLS)
		if err != nil {
			backend.Close()
			return nil, err
		}
		options = append(options, grpc.Creds(creds))
	}
	var listeners []net.Listener
	for _, address := range config.Addresses {
		listener, err := listen(address)
		if err != nil {
			for _, l := range listeners {
				l.Close()
			}
			backend.Close()
			return nil, fmt.Errorf("could not bind gRPC address %s: %v", address, err)
		}
		listeners = append(listeners, listener)
	}
	for _, listener := range listeners {
		server := grpc.NewServer(options...)
		healthServer := health.NewServer()
		healthServer.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
		healthpb.RegisterHealthServer(server, healthServer)
		f.servers = append(f.servers, server)
		go server.Serve(listener)
	}
	return f, nil
}

func (f *frontend) stop() {
	done := make(chan struct{})
	go func() {
		for _, server := range f.servers {
			server.GracefulStop()
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		for _, server := range f.servers {
			server.Stop()
		}
	}
	if f.scheduler != nil {
		f.scheduler.close()
	}
	f.backend.Close()
	f.loadMu.Lock()
	defer f.loadMu.Unlock()
	for key, version := range f.loaded {
		version.inUse.Lock()
		version.session.close()
		delete(f.loaded, key)
	}
}

// setModels takes the Python server's snapshot: versions it no longer serves stop being answered
// here at once (and close once their requests finish); new ones load in the background and are
// answered here once loaded (until then the Python server answers them).
func (f *frontend) setModels(models map[string]modelSpec) {
	f.loadMu.Lock()
	defer f.loadMu.Unlock()
	wanted := map[string]bool{}
	served := map[string]*servedModel{}
	for name, model := range models {
		m := &servedModel{versions: map[int64]*loadedVersion{}, keys: map[int64]string{},
			labels: model.Labels, labelOf: map[int64]string{}, latest: -1}
		held := map[int64][]string{}
		for label, version := range model.Labels {
			held[version] = append(held[version], label)
		}
		for version, labels := range held {
			sort.Strings(labels)
			m.labelOf[version] = labels[0]
		}
		for _, v := range model.Versions {
			key := versionKey(name, v)
			wanted[key] = true
			m.versions[v.Version] = f.loaded[key]
			m.keys[v.Version] = key
			if v.Version > m.latest {
				m.latest = v.Version
			}
			if f.loaded[key] == nil && !f.loading[key] {
				f.loading[key] = true
				go f.load(name, key, v, f.config.SessionConfig)
			}
		}
		served[name] = m
	}
	f.models.Store(&served)
	for key, version := range f.loaded {
		if !wanted[key] {
			delete(f.loaded, key)
			go func(v *loadedVersion) {
				v.inUse.Lock()
				v.session.close()
			}(version)
		}
	}
}

func (f *frontend) load(name, key string, spec versionSpec, config []byte) {
	version, err := loadVersion(key, spec, config)
	f.loadMu.Lock()
	defer f.loadMu.Unlock()
	delete(f.loading, key)
	if err != nil {
		fmt.Fprintf(os.Stderr, "native front end: loading %s version %d (%s) failed, the Python "+
			"server answers it: %v\n", name, spec.Version, spec.Path, err)
		return
	}
	models := *f.models.Load()
	model := models[name]
	if model == nil {
		version.session.close()
		return
	}
	if model.keys[spec.Version] != key { // retired, or now served from another folder
		version.session.close()
		return
	}
	f.loaded[key] = version
	// a new map, so requests reading the old one never see it change
	updated := map[string]*servedModel{}
	for n, m := range models {
		updated[n] = m
	}
	copied := *model
	copied.versions = map[int64]*loadedVersion{}
	for v, loaded := range model.versions {
		copied.versions[v] = loaded
	}
	copied.versions[spec.Version] = version
	updated[name] = &copied
	f.models.Store(&updated)
}

func loadVersion(key string, spec versionSpec, config []byte) (*loadedVersion, error) {
	s, err := loadSession(spec.Path, spec.Tags, config)
	if err != nil {
		return nil, err
	}
	version := &loadedVersion{key: key, version: spec.Version, session: s,
		signatures: map[string]*loadedSignature{}}
	for name, sig := range spec.Signatures {
		loaded := &loadedSignature{name: name, batchable: sig.Batchable, inputs: sig.Inputs,
			outputs: sig.Outputs, feeds: map[string]C.TF_Output{}, fetches: map[string]C.TF_Output{}}
		usable := true
		for alias, info := range sig.Inputs {
			output, err := s.output(info.Tensor)
			usable = usable && err == nil && supportedDtype(info.Dtype)
			loaded.feeds[alias] = output
			loaded.inputKeys = append(loaded.inputKeys, alias)
		}
		for alias, info := range sig.Outputs {
			output, err := s.output(info.Tensor)
			usable = usable && err == nil
			loaded.fetches[alias] = output
			loaded.outputKeys = append(loaded.outputKeys, alias)
		}
		sort.Strings(loaded.inputKeys)
		sort.Strings(loaded.outputKeys)
		if usable && len(loaded.inputKeys) > 0 && len(loaded.outputKeys) > 0 {
			version.signatures[name] = loaded
		}
	}
	replayed, err := version.warmup(spec.Warmup, spec.WarmupIterations)
	if err != nil {
		s.close()
		return nil, err
	}
	if replayed > 0 {
		fmt.Fprintf(os.Stderr, "native front end: %s: %d warmup requests replayed\n", spec.Path,
			replayed)
	}
	return version, nil
}

// handle serves every method: Predict natively when it can, everything else by the Python server.
func (f *frontend) handle(_ any, stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	var frame []byte
	if err := stream.RecvMsg(&frame); err != nil {
		return err
	}
	if method == predictMethod {
		reply, err := f.predictOrForward(frame)
		if err == nil {
			return stream.SendMsg(&reply)
		}
		if err != errForward {
			return err
		}
	}
	reply, err := f.forward(stream.Context(), method, frame)
	if err != nil {
		return err
	}
	return stream.SendMsg(&reply)
}

// forward sends the call to the Python server with the caller's metadata and deadline; its
// status, code and message included, comes back unchanged.
func (f *frontend) forward(ctx context.Context, method string, frame []byte) ([]byte, error) {
	incoming, _ := metadata.FromIncomingContext(ctx)
	outgoing := metadata.MD{}
	for key, values := range incoming {
		if strings.HasPrefix(key, ":") || strings.HasPrefix(key, "grpc-") ||
			key == "content-type" || key == "user-agent" || key == "te" {
			continue
		}
		outgoing[key] = values
	}
	var reply []byte
	var header, trailer metadata.MD
	err := f.backend.Invoke(metadata.NewOutgoingContext(ctx, outgoing), method, &frame, &reply,
		grpc.Header(&header), grpc.Trailer(&trailer))
	if len(header) > 0 {
		grpc.SetHeader(ctx, header)
	}
	if len(trailer) > 0 {
		grpc.SetTrailer(ctx, trailer)
	}
	if err != nil {
		if _, ok := status.FromError(err); ok {
			return nil, err
		}
		return nil, status.Error(codes.Unavailable, err.Error())
	}
	return reply, nil
}

// predictOrForward is predict, with a fault in the native path (a panic) answered by the Python
// server instead of ending the process.
func (f *frontend) predictOrForward(frame []byte) (reply []byte, err error) {
	defer func() {
		if fault := recover(); fault != nil {
			fmt.Fprintf(os.Stderr, "native front end: Predict failed (%v); the Python server "+
				"answers it\n", fault)
			reply, err = nil, errForward
		}
	}()
	return f.predict(frame)
}

// predict answers one PredictRequest natively, or returns errForward.
func (f *frontend) predict(frame []byte) ([]byte, error) {
	start := time.Now()
	request := &apis.PredictRequest{}
	if proto.Unmarshal(frame, request) != nil {
		return nil, errForward
	}
	spec := request.GetModelSpec()
	if spec == nil || spec.GetName() == "" {
		return nil, errForward
	}
	model := (*f.models.Load())[spec.GetName()]
	if model == nil {
		return nil, errForward
	}
	versionNumber, label := model.latest, ""
	switch choice := spec.GetVersionChoice().(type) {
	case *apis.ModelSpec_Version:
		versionNumber = choice.Version.GetValue()
	case *apis.ModelSpec_VersionLabel:
		labelled, ok := model.labels[choice.VersionLabel]
		if !ok {
			return nil, errForward
		}
		versionNumber, label = labelled, choice.VersionLabel
	}
	version := model.versions[versionNumber]
	if version == nil {
		return nil, errForward
	}
	if label == "" {
		label = model.labelOf[versionNumber]
	}
	signature, inputs, wanted, ok := version.decode(request)
	if !ok {
		return nil, errForward
	}
	version.inUse.RLock()
	runStart := time.Now()
	outputs, err := f.run(version, signature, inputs)
	runtime := time.Since(runStart)
	version.inUse.RUnlock()
	name := spec.GetName()
	versionText := fmt.Sprint(versionNumber)
	if err != nil {
		if err != errForward {
			f.metrics.failure(name, versionText, label, status.Code(err).String())
		}
		return nil, err
	}
	response := &apis.PredictResponse{ModelSpec: &apis.ModelSpec{Name: name,
		VersionChoice: &apis.ModelSpec_Version{Version: wrapperspb.Int64(versionNumber)},
		SignatureName: signature.name}, Outputs: map[string]*framework.TensorProto{}}
	for _, alias := range wanted {
		response.Outputs[alias] = encodeTensor(outputs[alias])
	}
	reply, err := proto.Marshal(response)
	if err != nil {
		return nil, errForward
	}
	f.metrics.success(name, versionText, label, time.Since(start), runtime)
	return reply, nil
}

// decode resolves a request's signature, inputs and wanted outputs on this version; not ok when
// the native path cannot answer it exactly as the Python server would.
func (v *loadedVersion) decode(request *apis.PredictRequest) (
	*loadedSignature, map[string]*denseTensor, []string, bool) {
	signatureName := request.GetModelSpec().GetSignatureName()
	if signatureName == "" {
		signatureName = defaultSignature
	}
	signature := v.signatures[signatureName]
	if signature == nil || len(request.GetInputs()) != len(signature.inputKeys) {
		return nil, nil, nil, false
	}
	inputs := map[string]*denseTensor{}
	for alias, tensorProto := range request.GetInputs() {
		info, ok := signature.inputs[alias]
		if !ok {
			return nil, nil, nil, false
		}
		decoded, ok := decodeTensor(tensorProto)
		if !ok || decoded.dtype != info.Dtype {
			return nil, nil, nil, false
		}
		inputs[alias] = decoded
	}
	wanted := signature.outputKeys
	if len(request.GetOutputFilter()) > 0 {
		wanted = request.GetOutputFilter()
		for _, alias := range wanted {
			if _, ok := signature.outputs[alias]; !ok {
				return nil, nil, nil, false
			}
		}
	}
	return signature, inputs, wanted, true
}

// warmup replays the version's warmup Predicts on its session (unbatched and uncounted, as the
// Python server replays them) so its first answered requests are not cold; it returns how many
// records it ran. Records it would not answer natively are the Python server's (already replayed
// there); a record TensorFlow refuses here fails the native load.
func (v *loadedVersion) warmup(records [][]byte, iterations int) (int, error) {
	replayed := 0
	for i, record := range records {
		request := &apis.PredictRequest{}
		if proto.Unmarshal(record, request) != nil {
			continue
		}
		signature, inputs, _, ok := v.decode(request)
		if !ok {
			continue
		}
		for n := 0; n < max(1, iterations); n++ {
			if _, err := runSession(v, signature, []map[string]*denseTensor{inputs}, false, 0,
				0); err != nil {
				return replayed, fmt.Errorf("warmup request %d failed: %v", i+1, err)
			}
		}
		replayed++
	}
	return replayed, nil
}

// run feeds the inputs through the batch scheduler when batching is on and the signature is
// batchable (every input's 0th dimension unknown), else straight to the session.
func (f *frontend) run(version *loadedVersion, signature *loadedSignature,
	inputs map[string]*denseTensor) (map[string]*denseTensor, error) {
	if f.scheduler == nil || !signature.batchable {
		outputs, err := runSession(version, signature, []map[string]*denseTensor{inputs}, false,
			0, 0)
		if err != nil {
			return nil, errForward // TensorFlow refused it: the Python server answers in its words
		}
		return outputs, nil
	}
	rows := int64(-1)
	var key strings.Builder
	key.WriteString(version.key + "\x00" + signature.name)
	for _, alias := range signature.inputKeys {
		tensor := inputs[alias]
		if len(tensor.dims) == 0 || (rows >= 0 && tensor.dims[0] != rows) {
			return nil, errForward
		}
		rows = tensor.dims[0]
		fmt.Fprintf(&key, "\x00%s:%d:%v", alias, tensor.dtype, tensor.dims[1:])
	}
	task := &batchTask{inputs: inputs, rows: rows}
	if err := f.scheduler.submit(key.String(), func(tasks []*batchTask, rows, padded int64) {
		parts := make([]map[string]*denseTensor, len(tasks))
		for i, t := range tasks {
			parts[i] = t.inputs
		}
		all, err := runSession(version, signature, parts, true, rows, padded-rows)
		if err != nil {
			for _, t := range tasks {
				t.err = errForward // each request again in the Python server, alone
			}
			return
		}
		f.metrics.batch(padded)
		offset := int64(0)
		for _, t := range tasks {
			t.outputs = map[string]*denseTensor{}
			for alias, tensor := range all {
				t.outputs[alias] = tensor.rowsOf(offset, offset+t.rows)
			}
			offset += t.rows
		}
	}, task); err != nil {
		return nil, err
	}
	return task.outputs, nil
}

// runSession runs one batch (or one request) and copies every output into Go memory.
func runSession(version *loadedVersion, signature *loadedSignature,
	parts []map[string]*denseTensor, batched bool, rows, pad int64) (map[string]*denseTensor, error) {
	feeds := make([]C.TF_Output, 0, len(signature.inputKeys))
	tensors := make([]*C.TF_Tensor, 0, len(signature.inputKeys))
	defer func() { deleteTensors(tensors) }()
	for _, alias := range signature.inputKeys {
		column := make([]*denseTensor, len(parts))
		for i, part := range parts {
			column[i] = part[alias]
		}
		total := rows
		if !batched {
			total = column[0].rowCount()
		}
		feeds = append(feeds, signature.feeds[alias])
		tensors = append(tensors, newTensor(column, total, pad))
	}
	fetches := make([]C.TF_Output, len(signature.outputKeys))
	for i, alias := range signature.outputKeys {
		fetches[i] = signature.fetches[alias]
	}
	results, err := version.session.run(feeds, tensors, fetches)
	if err != nil {
		return nil, err
	}
	defer deleteTensors(results)
	outputs := map[string]*denseTensor{}
	for i, alias := range signature.outputKeys {
		tensor, err := fetchedTensor(results[i])
		if err != nil {
			return nil, err
		}
		if batched && (len(tensor.dims) == 0 || tensor.dims[0] != rows+pad) {
			return nil, fmt.Errorf("batched output %q has no 0th dimension of %d", alias, rows+pad)
		}
		outputs[alias] = tensor
	}
	return outputs, nil
}

// rowsOf is rows [from, to) of dimension 0.
func (t *denseTensor) rowsOf(from, to int64) *denseTensor {
	dims := append([]int64{to - from}, t.dims[1:]...)
	if t.dtype == dtString {
		perRow := int64(len(t.strings)) / t.dims[0]
		return &denseTensor{dtype: t.dtype, dims: dims, strings: t.strings[from*perRow : to*perRow]}
	}
	perRow := int64(len(t.data)) / t.dims[0]
	return &denseTensor{dtype: t.dtype, dims: dims, data: t.data[from*perRow : to*perRow]}
}

func main() {}
