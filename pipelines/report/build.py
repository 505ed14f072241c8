"""Writes one HTML page per model run and the index page linking them."""
import dataclasses
import pathlib
import re
import time
from typing import List, Optional, Sequence

from data import settings
from models import registry
from pipelines import run_paths, shadow_report
from pipelines.report import canary_section, data_facts, gather, render, serving_facts
from serving.rollout import canary_watch



@dataclasses.dataclass
class BuildResult:
    """What `tfxp report` wrote, and the models it could not report on (no run yet)."""

    index: pathlib.Path
    pages: List[pathlib.Path]
    missing: List[str]  # models without runs, as messages
    seconds: float


def page_name(pipeline_name: str, run_id: str) -> str:
    """A file name unique per run: the run id reduced to what is safe in a file name."""
    return f"{pipeline_name}-{re.sub(r'[^0-9A-Za-z]+', '', run_id)[:20]}.html"


def run_command_hint(model: str, sample: bool) -> str:
    """The command that produces a run of `model`, for pages that have none to show."""
    return f"tfxp run --model {model}" + (" --sample" if sample else "")


def build_reports(model_names: Sequence[str], out_dir, sample: bool = False,
                  home: Optional[str] = None, run_id: str = "latest") -> BuildResult:
    """Gathers and writes the reports; raises gather.NoRunsError when no model has a run."""
    started = time.monotonic()
    if len(model_names) > 1 and (home or run_id != "latest"):
        raise ValueError("--pipeline-root and --run apply to one model; pass --model")
    out = pathlib.Path(out_dir)
    rows, reports, missing = [], [], []
    for name in model_names:
        spec = registry.get(name)
        paths = run_paths.default_paths(spec, sample=sample, home=home)
        models_root = paths.serving_model_dir.parent
        row = {"model": name, "key_metric": spec.key_metric, "note": "", "runs": 0,
               "labels": serving_facts.serving_labels(models_root / "models.config")
               .get(name, {})}
        try:
            report = gather.gather_run(name, spec.key_metric, str(paths.metadata_path),
                                       paths.pipeline_name, run_id)
        except gather.NoRunsError as error:
            if run_id != "latest" and paths.metadata_path.exists():
                raise
            row["note"] = f"no runs yet: run `{run_command_hint(name, sample)}`"
            missing.append(f"{name}: {error}")
            rows.append(row)
            continue
        report.serving_skew = data_facts.gather_serving_skew(paths.home)
        candidate, baseline = report.key_values
        row.update(run_id=report.run.run_id, page=page_name(report.pipeline_name,
                                                            report.run.run_id),
                   candidate=candidate, baseline=baseline, blessed=report.blessed,
                   pushed_version=report.latest_pushed_version, runs=report.run_count)
        reports.append((row["page"], report,
                        canary_section.section(canary_watch.load_decisions(models_root, name))
                        + shadow_report.section(shadow_report.load_saved(models_root, name))))
        rows.append(row)
    if not reports:
        hint = "; ".join(f"`{run_command_hint(n, sample)}`" for n in model_names)
        raise gather.NoRunsError(f"no pipeline runs to report on ({'; '.join(missing)}). "
                                 f"Run {hint} first.")
    out.mkdir(parents=True, exist_ok=True)
    pages = []
    for page, report, canary_html in reports:
        path = out / page
        path.write_text(canary_section.add_to_page(render.run_page(report), canary_html),
                        encoding="utf-8")
        pages.append(path)
    index = out / "index.html"
    index.write_text(render.index_page(rows, time.time()), encoding="utf-8")
    return BuildResult(index, pages, missing, time.monotonic() - started)


def write_reports(model_names: Sequence[str], out_dir=settings.REPORTS_DIR, sample: bool = False,
                  home: Optional[str] = None) -> pathlib.Path:
    """Writes every model's latest-run report and the index; returns the index path."""
    return build_reports(model_names, out_dir, sample=sample, home=home).index
