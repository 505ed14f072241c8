"""Gathering a run's report data from ML Metadata: no runs is its own error."""
import pytest

from pipelines.report import gather


def test_an_empty_metadata_store_has_no_runs_to_report(tmp_path):
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    config = metadata_store_pb2.ConnectionConfig()
    config.sqlite.filename_uri = str(tmp_path / "metadata.sqlite")
    metadata_store.MetadataStore(config)  # creates the empty store
    with pytest.raises(gather.NoRunsError, match="no runs of pipeline 'census-sample' yet"):
        gather.gather_run("census", "auc", str(tmp_path / "metadata.sqlite"), "census-sample")
