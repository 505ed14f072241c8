"""Rotten Tomatoes sentiment: the documented Embedding + SimpleRNN and an LSTM + attention variant."""
from models.sentiment_rnn.spec import SPEC  # noqa: F401
