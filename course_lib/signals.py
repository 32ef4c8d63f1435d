"""A real numeric sequence: daily stock prices from matplotlib's bundled sample data (no download)."""
import numpy as np
from matplotlib import cbook


def google_closing_prices():
    """Google's daily closing prices, 2004-08-19 to 2008-10-10, as shipped with matplotlib.

    returns (dates, close): dates (T,) datetime64[D], close (T,) float64 in US dollars.
    """
    data = cbook.get_sample_data("goog.npz")["price_data"]
    return data["date"].astype("datetime64[D]"), data["close"].astype(np.float64)
