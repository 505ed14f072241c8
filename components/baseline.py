"""Which blessed model the Evaluator compares a candidate with.

TFX's LatestBlessedModelStrategy picks the newest blessed model. On an unchanged re-run that is
the cached candidate itself, so the Evaluator's inputs change (baseline: none -> itself), it runs
again and compares the model with itself. PreviousBlessedModelStrategy picks the newest blessed
model *other than the candidate*: a re-run resolves the same baseline as the run that produced
the candidate, and the Evaluator and Pusher come from the cache. Kubeflow's V2 compiler only
accepts TFX's own strategy, so compiled specs use that one.
"""
from typing import Dict, List, Optional

from tfx import types
from tfx.dsl.components.common import resolver
from tfx.dsl.input_resolution.strategies.latest_blessed_model_strategy import (
    LatestBlessedModelStrategy)

CANDIDATE_KEY, MODEL_KEY, BLESSING_KEY = "candidate", "model", "model_blessing"


class PreviousBlessedModelStrategy(resolver.ResolverStrategy):
    """The latest blessed model that is not the candidate (input `candidate`)."""

    def resolve_artifacts(self, store, input_dict: Dict[str, List[types.Artifact]]
                          ) -> Optional[Dict[str, List[types.Artifact]]]:
        candidate = list(input_dict.get(CANDIDATE_KEY, []))
        candidate_ids = {artifact.id for artifact in candidate}
        models = [m for m in input_dict.get(MODEL_KEY, []) if m.id not in candidate_ids]
        blessings = list(input_dict.get(BLESSING_KEY, []))
        result = {MODEL_KEY: [], BLESSING_KEY: []}
        if models and blessings:
            result = LatestBlessedModelStrategy()._resolve(  # pylint: disable=protected-access
                {MODEL_KEY: models, BLESSING_KEY: blessings}, MODEL_KEY, BLESSING_KEY)
        result[CANDIDATE_KEY] = candidate
        return result
