package main

import (
	"encoding/binary"
	"math"

	framework "tfxp/serving/native/pb/framework"
)

// TensorFlow's DataType numbers (types.proto), the same in the C API's TF_DataType.
const (
	dtFloat  = 1
	dtDouble = 2
	dtInt32  = 3
	dtString = 7
	dtInt64  = 9
	dtBool   = 10
)

func supportedDtype(dtype int32) bool {
	switch dtype {
	case dtFloat, dtDouble, dtInt32, dtString, dtInt64, dtBool:
		return true
	}
	return false
}

func dtypeSize(dtype int32) int {
	switch dtype {
	case dtDouble, dtInt64:
		return 8
	case dtBool:
		return 1
	}
	return 4
}

// denseTensor is one tensor in host memory: little-endian element bytes, or strings.
type denseTensor struct {
	dtype   int32
	dims    []int64
	data    []byte
	strings [][]byte
}

func (t *denseTensor) rowCount() int64 {
	if len(t.dims) == 0 {
		return 0
	}
	return t.dims[0]
}

// decodeTensor reads a request TensorProto the way the Python server's fast path does
// (serving.server.tensor_codec.to_ndarray): one value per element, in the dtype's own field or
// in tensor_content. Anything else (a short list TensorFlow would fill, an empty tensor, another
// dtype) returns false, and the request goes to the Python server, whose answer stays the
// reference one.
func decodeTensor(proto *framework.TensorProto) (*denseTensor, bool) {
	dtype := int32(proto.GetDtype())
	if !supportedDtype(dtype) || proto.GetTensorShape() == nil || proto.GetTensorShape().GetUnknownRank() {
		return nil, false
	}
	dims := make([]int64, len(proto.GetTensorShape().GetDim()))
	count := int64(1)
	for i, d := range proto.GetTensorShape().GetDim() {
		if d.GetSize() < 0 || (d.GetSize() > 0 && count > maxElements/d.GetSize()) {
			return nil, false
		}
		dims[i] = d.GetSize()
		count *= d.GetSize()
	}
	// Nothing is allocated before the values held are counted against the declared shape, so
	// a small proto declaring a huge tensor costs nothing here.
	if count == 0 || heldValues(proto, dtype) != count {
		return nil, false
	}
	t := &denseTensor{dtype: dtype, dims: dims}
	if dtype == dtString {
		t.strings = proto.GetStringVal()
		return t, true
	}
	if content := proto.GetTensorContent(); len(content) > 0 {
		t.data = content
		return t, true
	}
	t.data = make([]byte, 0, count*int64(dtypeSize(dtype)))
	switch dtype {
	case dtFloat:
		for _, v := range proto.GetFloatVal() {
			t.data = binary.LittleEndian.AppendUint32(t.data, math.Float32bits(v))
		}
	case dtDouble:
		for _, v := range proto.GetDoubleVal() {
			t.data = binary.LittleEndian.AppendUint64(t.data, math.Float64bits(v))
		}
	case dtInt32:
		for _, v := range proto.GetIntVal() {
			t.data = binary.LittleEndian.AppendUint32(t.data, uint32(v))
		}
	case dtInt64:
		for _, v := range proto.GetInt64Val() {
			t.data = binary.LittleEndian.AppendUint64(t.data, uint64(v))
		}
	case dtBool:
		for _, v := range proto.GetBoolVal() {
			b := byte(0)
			if v {
				b = 1
			}
			t.data = append(t.data, b)
		}
	}
	return t, true
}

// maxElements bounds a declared element count so its byte size cannot overflow an int64.
const maxElements = int64(1) << 56

// heldValues is how many elements the proto carries for its dtype: tensor_content's bytes over
// the element size (strings and bools are only read from their lists), else the typed list's
// length; -1 when the content's length is not a whole number of elements.
func heldValues(proto *framework.TensorProto, dtype int32) int64 {
	if content := proto.GetTensorContent(); len(content) > 0 {
		size := int64(dtypeSize(dtype))
		if dtype == dtString || dtype == dtBool || int64(len(content))%size != 0 {
			return -1
		}
		return int64(len(content)) / size
	}
	switch dtype {
	case dtFloat:
		return int64(len(proto.GetFloatVal()))
	case dtDouble:
		return int64(len(proto.GetDoubleVal()))
	case dtInt32:
		return int64(len(proto.GetIntVal()))
	case dtInt64:
		return int64(len(proto.GetInt64Val()))
	case dtBool:
		return int64(len(proto.GetBoolVal()))
	case dtString:
		return int64(len(proto.GetStringVal()))
	}
	return -1
}

// encodeTensor writes an output as the Python server's fill_proto does (which matches
// tf.make_tensor_proto): strings in string_val; float, double, int32 and int64 tensors of more
// than one element in tensor_content; single values and bools in their typed field.
func encodeTensor(t *denseTensor) *framework.TensorProto {
	shape := &framework.TensorShapeProto{}
	count := int64(1)
	for _, d := range t.dims {
		shape.Dim = append(shape.Dim, &framework.TensorShapeProto_Dim{Size: d})
		count *= d
	}
	proto := &framework.TensorProto{Dtype: framework.DataType(t.dtype), TensorShape: shape}
	if t.dtype == dtString {
		proto.StringVal = t.strings
		return proto
	}
	if t.dtype != dtBool && count > 1 {
		proto.TensorContent = t.data
		return proto
	}
	size := dtypeSize(t.dtype)
	for i := 0; i+size <= len(t.data); i += size {
		cell := t.data[i : i+size]
		switch t.dtype {
		case dtFloat:
			proto.FloatVal = append(proto.FloatVal, math.Float32frombits(binary.LittleEndian.Uint32(cell)))
		case dtDouble:
			proto.DoubleVal = append(proto.DoubleVal, math.Float64frombits(binary.LittleEndian.Uint64(cell)))
		case dtInt32:
			proto.IntVal = append(proto.IntVal, int32(binary.LittleEndian.Uint32(cell)))
		case dtInt64:
			proto.Int64Val = append(proto.Int64Val, int64(binary.LittleEndian.Uint64(cell)))
		case dtBool:
			proto.BoolVal = append(proto.BoolVal, cell[0] != 0)
		}
	}
	return proto
}
