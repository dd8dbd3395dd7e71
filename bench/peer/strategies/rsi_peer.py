"""The peer's strategy: 23 TA-Lib indicators (the set ``bench/bench_features.py`` checks Huracan's recipe against)
and one entry rule, long when RSI(14) is below the threshold.

The exits and the threshold come from the run's config, written by ``bench_peer.py`` from the numbers Huracan's
side trades with: ``minimal_roi`` (the take profit at minute 0, net of freqtrade's fee, and ROI -1 at the time stop),
``stoploss``, and ``peer.rsi_below``. No exit signal: every exit is a stop, the take profit, the time stop or the end
of the data, as in Huracan's exit kernel.
"""

from __future__ import annotations

import talib.abstract as ta
from freqtrade.strategy import IStrategy
from pandas import DataFrame


class RsiPeer(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "15m"
    #: SMA(200) is the longest lookback; the first 200 candles are warm-up, never traded
    startup_candle_count = 200
    process_only_new_candles = True
    use_exit_signal = False
    can_short = False

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        for n in (5, 10, 20, 50, 200):
            dataframe[f"sma_{n}"] = ta.SMA(dataframe, timeperiod=n)
        for n in (5, 10, 12, 20, 26):
            dataframe[f"ema_{n}"] = ta.EMA(dataframe, timeperiod=n)
        dataframe["rsi_14"] = ta.RSI(dataframe, timeperiod=14)
        macd = ta.MACD(dataframe, fastperiod=12, slowperiod=26, signalperiod=9)
        dataframe["macd"], dataframe["macd_signal"], dataframe["macd_hist"] = (
            macd["macd"],
            macd["macdsignal"],
            macd["macdhist"],
        )
        dataframe["atr_14"] = ta.ATR(dataframe, timeperiod=14)
        dataframe["adx"] = ta.ADX(dataframe, timeperiod=14)
        dataframe["plus_di"] = ta.PLUS_DI(dataframe, timeperiod=14)
        dataframe["minus_di"] = ta.MINUS_DI(dataframe, timeperiod=14)
        bands = ta.BBANDS(dataframe, timeperiod=20, nbdevup=2.0, nbdevdn=2.0, matype=0)
        dataframe["bb_upper"], dataframe["bb_lower"] = bands["upperband"], bands["lowerband"]
        stoch = ta.STOCH(dataframe, fastk_period=14, slowk_period=3, slowk_matype=0, slowd_period=3, slowd_matype=0)
        dataframe["stoch_k"], dataframe["stoch_d"] = stoch["slowk"], stoch["slowd"]
        dataframe["obv"] = ta.OBV(dataframe)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["rsi_14"] < self.config["peer"]["rsi_below"], "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe
