"""The loopback ML Metadata server answers ml-metadata's own gRPC client as its store does."""
import grpc
import pytest
from ml_metadata import errors
from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2, metadata_store_service_pb2
from ml_metadata.proto import metadata_store_service_pb2_grpc

from kubeflow import mlmd_server


@pytest.fixture
def server(tmp_path):
    running = mlmd_server.MetadataStoreServer(tmp_path / "mlmd.sqlite")
    running.start()
    yield running
    running.stop()


def client(port: int) -> metadata_store.MetadataStore:
    return metadata_store.MetadataStore(
        metadata_store_pb2.MetadataStoreClientConfig(host="127.0.0.1", port=port))


def test_a_run_recorded_through_grpc_reads_back_like_kfps_driver_reads_it(server, tmp_path):
    store = client(server.port)
    run_type = store.put_context_type(metadata_store_pb2.ContextType(name="system.PipelineRun"))
    [run_id] = store.put_contexts([metadata_store_pb2.Context(type_id=run_type, name="run-1")])
    execution_type = store.put_execution_type(
        metadata_store_pb2.ExecutionType(name="system.ContainerExecution"))
    artifact_type = store.put_artifact_type(metadata_store_pb2.ArtifactType(name="system.Model"))
    artifact = metadata_store_pb2.Artifact(type_id=artifact_type, uri="/mnt/tfxp/trainer/model")
    artifact.custom_properties["display_name"].string_value = "model"
    execution = metadata_store_pb2.Execution(
        type_id=execution_type, last_known_state=metadata_store_pb2.Execution.COMPLETE)
    execution.custom_properties["cache_fingerprint"].string_value = "abc"
    event = metadata_store_pb2.Event(type=metadata_store_pb2.Event.OUTPUT)
    event.path.steps.add().key = "model"
    context = store.get_context_by_type_and_name("system.PipelineRun", "run-1")
    execution_id, [artifact_id], _ = store.put_execution(execution, [(artifact, event)], [context])

    assert context.id == run_id
    [found] = store.get_executions_by_context(run_id)
    assert found.id == execution_id and found.custom_properties["cache_fingerprint"].string_value == "abc"
    [output] = store.get_events_by_execution_ids([execution_id])
    assert output.artifact_id == artifact_id and output.path.steps[0].key == "model"
    [read] = store.get_artifacts_by_id([artifact_id])
    assert read.uri == "/mnt/tfxp/trainer/model"
    assert client(server.port).get_contexts_by_type("system.PipelineRun")[0].name == "run-1"
    reopened = metadata_store.MetadataStore(metadata_store_pb2.ConnectionConfig(
        sqlite=metadata_store_pb2.SqliteMetadataSourceConfig(
            filename_uri=str(tmp_path / "mlmd.sqlite"))))
    assert reopened.get_artifacts_by_id([artifact_id])[0].uri == "/mnt/tfxp/trainer/model"


def test_the_stores_errors_arrive_with_their_grpc_codes(server):
    store = client(server.port)
    store.put_artifact_type(metadata_store_pb2.ArtifactType(
        name="T", properties={"a": metadata_store_pb2.INT}))
    with pytest.raises(errors.AlreadyExistsError, match="Type already exists with different"):
        store.put_artifact_type(metadata_store_pb2.ArtifactType(
            name="T", properties={"a": metadata_store_pb2.STRING}))
    with pytest.raises(errors.NotFoundError, match="1234"):
        store.put_executions([metadata_store_pb2.Execution(type_id=1234)])


def test_rpcs_the_extension_lacks_answer_unimplemented(server):
    assert "GetLineageGraph" not in server.implemented()
    assert {"PutExecution", "GetArtifactsByID", "GetContextByTypeAndName"} <= set(server.implemented())
    stub = metadata_store_service_pb2_grpc.MetadataStoreServiceStub(
        grpc.insecure_channel(f"127.0.0.1:{server.port}"))
    with pytest.raises(grpc.RpcError, match="GetLineageGraph is not in") as raised:
        stub.GetLineageGraph(metadata_store_service_pb2.GetLineageGraphRequest())
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
