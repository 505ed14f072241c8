"""TF Serving's batching, monitoring and SSL config messages.

tensorflow-serving-api 2.16.1 ships model_server_config_pb2 but not session_bundle_config_pb2,
monitoring_config_pb2 or ssl_config_pb2, and no protoc is installable next to protobuf 4.25. So the
three files are registered here from descriptors that transcribe the official .proto sources
(tensorflow_serving/servables/tensorflow/session_bundle_config.proto,
tensorflow_serving/config/monitoring_config.proto and tensorflow_serving/config/ssl_config.proto):
same file names, package, message names, field names, numbers and types, so a batching.config /
monitoring.config / --ssl_config_file that parses here parses in tensorflow_model_server. Fields added after the versions transcribed (e.g. BatchingParameters'
large-batch-splitting options) are rejected with a clear parse error rather than guessed.
"""
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf import wrappers_pb2  # noqa: F401  (registers google/protobuf/wrappers.proto)
from tensorflow.core.protobuf import config_pb2, named_tensor_pb2  # noqa: F401  (dependencies)

_F = descriptor_pb2.FieldDescriptorProto
_OPTIONAL, _REPEATED = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED


def _field(msg, name, number, ftype, label=_OPTIONAL, type_name=None):
    field = msg.field.add(name=name, number=number, type=ftype, label=label)
    if type_name:
        field.type_name = type_name


def _register(file_proto):
    pool = descriptor_pool.Default()
    try:
        return pool.FindFileByName(file_proto.name)
    except KeyError:
        return pool.Add(file_proto) and pool.FindFileByName(file_proto.name)


def _serving_file(name: str, dependency=()):
    """An empty proto3 file of package tensorflow.serving named as in TF Serving's source tree."""
    return descriptor_pb2.FileDescriptorProto(name=f"tensorflow_serving/{name}",
                                              package="tensorflow.serving", syntax="proto3",
                                              dependency=list(dependency))


def _session_bundle_config_file():
    fp = _serving_file("servables/tensorflow/session_bundle_config.proto",
                       ["google/protobuf/wrappers.proto", "tensorflow/core/protobuf/config.proto",
                        "tensorflow/core/protobuf/named_tensor.proto"])
    sbc = fp.message_type.add(name="SessionBundleConfig")
    _field(sbc, "session_target", 1, _F.TYPE_STRING)
    _field(sbc, "session_config", 2, _F.TYPE_MESSAGE, type_name=".tensorflow.ConfigProto")
    _field(sbc, "batching_parameters", 3, _F.TYPE_MESSAGE,
           type_name=".tensorflow.serving.BatchingParameters")
    _field(sbc, "session_run_load_threadpool_index", 4, _F.TYPE_MESSAGE,
           type_name=".google.protobuf.Int32Value")
    _field(sbc, "experimental_fixed_input_tensors", 778, _F.TYPE_MESSAGE, _REPEATED,
           ".tensorflow.NamedTensorProto")
    bp = fp.message_type.add(name="BatchingParameters")
    for name, number in (("max_batch_size", 1), ("batch_timeout_micros", 2),
                         ("max_enqueued_batches", 3), ("num_batch_threads", 4)):
        _field(bp, name, number, _F.TYPE_MESSAGE, type_name=".google.protobuf.Int64Value")
    _field(bp, "thread_pool_name", 5, _F.TYPE_MESSAGE, type_name=".google.protobuf.StringValue")
    _field(bp, "allowed_batch_sizes", 6, _F.TYPE_INT64, _REPEATED)
    _field(bp, "pad_variable_length_inputs", 7, _F.TYPE_BOOL)
    return fp


def _monitoring_config_file():
    fp = _serving_file("config/monitoring_config.proto")
    prom = fp.message_type.add(name="PrometheusConfig")
    _field(prom, "enable", 1, _F.TYPE_BOOL)
    _field(prom, "path", 2, _F.TYPE_STRING)
    mon = fp.message_type.add(name="MonitoringConfig")
    _field(mon, "prometheus_config", 1, _F.TYPE_MESSAGE,
           type_name=".tensorflow.serving.PrometheusConfig")
    return fp


def _ssl_config_file():
    fp = _serving_file("config/ssl_config.proto")
    ssl = fp.message_type.add(name="SSLConfig")
    for name, number in (("server_key", 1), ("server_cert", 2), ("custom_ca", 3)):
        _field(ssl, name, number, _F.TYPE_STRING)
    _field(ssl, "client_verify", 4, _F.TYPE_BOOL)
    return fp


_SBC = _register(_session_bundle_config_file())
_MON = _register(_monitoring_config_file())
_SSL = _register(_ssl_config_file())

SessionBundleConfig = message_factory.GetMessageClass(_SBC.message_types_by_name["SessionBundleConfig"])
BatchingParameters = message_factory.GetMessageClass(_SBC.message_types_by_name["BatchingParameters"])
PrometheusConfig = message_factory.GetMessageClass(_MON.message_types_by_name["PrometheusConfig"])
MonitoringConfig = message_factory.GetMessageClass(_MON.message_types_by_name["MonitoringConfig"])
SSLConfig = message_factory.GetMessageClass(_SSL.message_types_by_name["SSLConfig"])
