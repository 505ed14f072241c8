package main

/*
#include <stdlib.h>
#include <string.h>
#include "tensorflow/c/c_api.h"
#include "tensorflow/c/tf_tstring.h"

// String tensors own their TF_TString elements: the deallocator frees each element's heap copy
// before the buffer, whenever TensorFlow drops its last reference (which can be after
// TF_DeleteTensor).
static void free_strings(void *data, size_t len, void *arg) {
  TF_TString *strings = (TF_TString *)data;
  for (size_t i = 0; i < len / sizeof(TF_TString); i++) TF_StringDealloc(&strings[i]);
  free(data);
}

static void free_plain(void *data, size_t len, void *arg) { free(data); }

static TF_Tensor *new_string_tensor(const int64_t *dims, int ndims, int64_t count) {
  size_t len = sizeof(TF_TString) * (count > 0 ? count : 1);
  TF_TString *strings = (TF_TString *)malloc(len);
  for (int64_t i = 0; i < count; i++) TF_StringInit(&strings[i]);
  return TF_NewTensor(TF_STRING, dims, ndims, strings, sizeof(TF_TString) * count,
                      free_strings, NULL);
}

static void set_string(TF_Tensor *t, int64_t i, const char *data, size_t n) {
  TF_StringCopy(&((TF_TString *)TF_TensorData(t))[i], data, n);
}

static const char *get_string(const TF_Tensor *t, int64_t i, size_t *n) {
  const TF_TString *s = &((const TF_TString *)TF_TensorData(t))[i];
  *n = TF_StringGetSize(s);
  return TF_StringGetDataPointer(s);
}

static TF_Tensor *new_plain_tensor(TF_DataType dtype, const int64_t *dims, int ndims,
                                   const void *data, size_t len) {
  void *copy = malloc(len > 0 ? len : 1);
  if (len > 0) memcpy(copy, data, len);
  return TF_NewTensor(dtype, dims, ndims, copy, len, free_plain, NULL);
}
*/
import "C"

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unsafe"
)

// session is one SavedModel version loaded through TensorFlow's C API, as tensorflow_model_server
// holds it: a graph and a session over it.
type session struct {
	graph   *C.TF_Graph
	session *C.TF_Session
}

func tfError(status *C.TF_Status) error {
	if C.TF_GetCode(status) == C.TF_OK {
		return nil
	}
	return errors.New(C.GoString(C.TF_Message(status)))
}

// loadSession loads a SavedModel with `config` (a serialized ConfigProto, may be empty) as its
// session's configuration.
func loadSession(path string, tags []string, config []byte) (*session, error) {
	status := C.TF_NewStatus()
	defer C.TF_DeleteStatus(status)
	options := C.TF_NewSessionOptions()
	defer C.TF_DeleteSessionOptions(options)
	if len(config) > 0 {
		C.TF_SetConfig(options, unsafe.Pointer(&config[0]), C.size_t(len(config)), status)
		if err := tfError(status); err != nil {
			return nil, fmt.Errorf("session config: %v", err)
		}
	}
	cPath := C.CString(path)
	defer C.free(unsafe.Pointer(cPath))
	cTags := make([]*C.char, len(tags))
	for i, tag := range tags {
		cTags[i] = C.CString(tag)
		defer C.free(unsafe.Pointer(cTags[i]))
	}
	graph := C.TF_NewGraph()
	var tagsPtr **C.char
	if len(cTags) > 0 {
		tagsPtr = (**C.char)(C.malloc(C.size_t(len(cTags)) * C.size_t(unsafe.Sizeof(cTags[0]))))
		defer C.free(unsafe.Pointer(tagsPtr))
		copy(unsafe.Slice(tagsPtr, len(cTags)), cTags)
	}
	s := C.TF_LoadSessionFromSavedModel(options, nil, cPath, tagsPtr, C.int(len(tags)), graph,
		nil, status)
	if err := tfError(status); err != nil {
		C.TF_DeleteGraph(graph)
		return nil, err
	}
	return &session{graph: graph, session: s}, nil
}

// output resolves a TensorInfo name such as `serving_default_examples:0`.
func (s *session) output(name string) (C.TF_Output, error) {
	op, index := name, 0
	if at := strings.LastIndex(name, ":"); at >= 0 {
		parsed, err := strconv.Atoi(name[at+1:])
		if err != nil {
			return C.TF_Output{}, fmt.Errorf("tensor name %q has no output index", name)
		}
		op, index = name[:at], parsed
	}
	cOp := C.CString(op)
	defer C.free(unsafe.Pointer(cOp))
	operation := C.TF_GraphOperationByName(s.graph, cOp)
	if operation == nil {
		return C.TF_Output{}, fmt.Errorf("operation %q is not in the graph", op)
	}
	return C.TF_Output{oper: operation, index: C.int(index)}, nil
}

// run feeds `tensors` (owned by the caller) and returns the fetched tensors (owned by the caller).
func (s *session) run(inputs []C.TF_Output, tensors []*C.TF_Tensor, outputs []C.TF_Output) (
	[]*C.TF_Tensor, error) {
	status := C.TF_NewStatus()
	defer C.TF_DeleteStatus(status)
	n := len(outputs)
	in := (*C.TF_Output)(C.malloc(C.size_t(len(inputs)) * C.size_t(unsafe.Sizeof(C.TF_Output{}))))
	defer C.free(unsafe.Pointer(in))
	copy(unsafe.Slice(in, len(inputs)), inputs)
	values := (**C.TF_Tensor)(C.malloc(C.size_t(len(tensors)) * C.size_t(unsafe.Sizeof(tensors[0]))))
	defer C.free(unsafe.Pointer(values))
	copy(unsafe.Slice(values, len(tensors)), tensors)
	out := (*C.TF_Output)(C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof(C.TF_Output{}))))
	defer C.free(unsafe.Pointer(out))
	copy(unsafe.Slice(out, n), outputs)
	results := (**C.TF_Tensor)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof(tensors[0]))))
	defer C.free(unsafe.Pointer(results))
	C.TF_SessionRun(s.session, nil, in, values, C.int(len(inputs)), out, results, C.int(n),
		nil, 0, nil, status)
	fetched := append([]*C.TF_Tensor(nil), unsafe.Slice(results, n)...)
	if err := tfError(status); err != nil {
		deleteTensors(fetched)
		return nil, err
	}
	return fetched, nil
}

func (s *session) close() {
	status := C.TF_NewStatus()
	defer C.TF_DeleteStatus(status)
	C.TF_CloseSession(s.session, status)
	C.TF_DeleteSession(s.session, status)
	C.TF_DeleteGraph(s.graph)
}

func deleteTensors(tensors []*C.TF_Tensor) {
	for _, t := range tensors {
		if t != nil {
			C.TF_DeleteTensor(t)
		}
	}
}

// newTensor builds a TF_Tensor from one input of one or more requests laid end to end along
// dimension 0 (`rows` in total), then `pad` copies of the first row (allowed_batch_sizes).
func newTensor(parts []*denseTensor, rows int64, pad int64) *C.TF_Tensor {
	first := parts[0]
	dims := first.dims
	if len(parts) > 1 || pad > 0 {
		dims = append([]int64{rows + pad}, first.dims[1:]...)
	}
	var dimsPtr *C.int64_t
	if len(dims) > 0 {
		dimsPtr = (*C.int64_t)(unsafe.Pointer(&dims[0]))
	}
	if first.dtype == dtString {
		count := int64(0)
		for _, p := range parts {
			count += int64(len(p.strings))
		}
		perRow := int64(1)
		if first.rowCount() > 0 {
			perRow = int64(len(first.strings)) / first.rowCount()
		}
		total := count + pad*perRow
		t := C.new_string_tensor(dimsPtr, C.int(len(dims)), C.int64_t(total))
		i := int64(0)
		set := func(value []byte) {
			var data *C.char
			if len(value) > 0 {
				data = (*C.char)(unsafe.Pointer(&value[0]))
			}
			C.set_string(t, C.int64_t(i), data, C.size_t(len(value)))
			i++
		}
		for _, p := range parts {
			for _, value := range p.strings {
				set(value)
			}
		}
		for r := int64(0); r < pad; r++ {
			for _, value := range first.strings[:perRow] {
				set(value)
			}
		}
		return t
	}
	size := 0
	for _, p := range parts {
		size += len(p.data)
	}
	rowBytes := 0
	if first.rowCount() > 0 {
		rowBytes = len(first.data) / int(first.rowCount())
	}
	buffer := make([]byte, 0, size+int(pad)*rowBytes)
	for _, p := range parts {
		buffer = append(buffer, p.data...)
	}
	for r := int64(0); r < pad; r++ {
		buffer = append(buffer, first.data[:rowBytes]...)
	}
	var data unsafe.Pointer
	if len(buffer) > 0 {
		data = unsafe.Pointer(&buffer[0])
	}
	return C.new_plain_tensor(C.TF_DataType(first.dtype), dimsPtr, C.int(len(dims)), data,
		C.size_t(len(buffer)))
}

// fetchedTensor copies one output tensor into Go memory.
func fetchedTensor(t *C.TF_Tensor) (*denseTensor, error) {
	dtype := int32(C.TF_TensorType(t))
	if !supportedDtype(dtype) {
		return nil, fmt.Errorf("output dtype %d is not handled natively", dtype)
	}
	ndims := int(C.TF_NumDims(t))
	dims := make([]int64, ndims)
	for i := range dims {
		dims[i] = int64(C.TF_Dim(t, C.int(i)))
	}
	count := int64(C.TF_TensorElementCount(t))
	result := &denseTensor{dtype: dtype, dims: dims}
	if dtype == dtString {
		result.strings = make([][]byte, 0, count)
		for i := int64(0); i < count; i++ {
			var n C.size_t
			data := C.get_string(t, C.int64_t(i), &n)
			result.strings = append(result.strings, C.GoBytes(unsafe.Pointer(data), C.int(n)))
		}
		return result, nil
	}
	size := int64(dtypeSize(dtype))
	all := unsafe.Slice((*byte)(C.TF_TensorData(t)), int(C.TF_TensorByteSize(t)))
	result.data = append([]byte(nil), all[:count*size]...)
	return result, nil
}
