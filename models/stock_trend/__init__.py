"""S&P 500 trend (Down/Neutral/Up over the next days): a GRU/LSTM on windows of indicators."""
from models.stock_trend.spec import SPEC  # noqa: F401
