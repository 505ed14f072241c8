"""The report's training curves, read from the Trainer's TensorBoard event files."""
import glob
import os
import pathlib
from typing import Dict, List, Tuple


def training_curves(model_run_uri: str) -> Dict[str, Dict[str, List[Tuple[int, float]]]]:
    """metric -> {train|validation: [(epoch, value)]} from Keras' per-epoch summaries."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.util import tensor_util

    curves: Dict[str, Dict[str, Dict[int, float]]] = {}
    for path in sorted(glob.glob(os.path.join(model_run_uri, "**", "*tfevents*"), recursive=True)):
        run_name = pathlib.Path(path).parent.name
        for event in EventFileLoader(path).Load():
            for value in event.summary.value:
                if not value.tag.startswith("epoch_"):
                    continue
                if value.HasField("tensor"):
                    number = float(tensor_util.make_ndarray(value.tensor))
                elif value.HasField("simple_value"):
                    number = value.simple_value
                else:
                    continue
                metric = value.tag[len("epoch_"):]
                curves.setdefault(metric, {}).setdefault(run_name, {})[int(event.step)] = number
    return {metric: {run: sorted(points.items()) for run, points in sorted(per_run.items())}
            for metric, per_run in sorted(curves.items(), key=lambda kv: (kv[0] != "loss", kv[0]))}
