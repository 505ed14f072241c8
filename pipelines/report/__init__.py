"""HTML reports of pipeline runs: gather (MLMD, TFDV, TFMA, TensorBoard) -> render -> write."""
from pipelines.report.build import write_reports

__all__ = ["write_reports"]
