"""Sentiment feature keys and the text-to-token-ids settings Transform and serving share."""
from data import rotten_tomatoes

TEXT_KEY = "text"
LABEL_KEY = "label"
assert [TEXT_KEY, LABEL_KEY] == rotten_tomatoes.COLUMNS

MAX_TOKENS = 40          # snippets have 18.5 tokens on average; 99% have at most 40
VOCAB_SIZE = 10000       # most frequent training tokens kept (those seen at least twice)
MIN_FREQUENCY = 2
NUM_OOV_BUCKETS = 1
PAD_ID = 0               # ids are shifted by one so that 0 only ever means padding
VOCAB_NAME = "tokens"
CLASS_NAMES = ("rotten", "fresh")

# The rate of the larger class ('fresh') in the eval split, as data.rotten_tomatoes writes it into
# MANIFEST.json (models/sentiment_rnn/spec_test.py checks it): always answering 'fresh' scores this.
EVAL_MAJORITY_CLASS_RATE = 0.5778


def transformed_name(key: str) -> str:
    """The key Transform writes a feature under: the "_xf" suffix keeps raw and transformed keys
    apart where both appear (signatures, TFMA slices)."""
    return key + "_xf"


TOKENS_KEY = transformed_name("tokens")
TRANSFORMED_LABEL_KEY = transformed_name(LABEL_KEY)
