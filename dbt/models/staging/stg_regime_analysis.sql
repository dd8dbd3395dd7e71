-- Outcomes by regime at entry, per day and coin.
with src as (
    {{ export_source('regime_analysis') }}
)

select
    timeframe,
    day,
    symbol,
    partition_key,
    scope,
    regime,
    trades,
    win_rate,
    mean_net_bps,
    total_net_bps,
    mean_gross_bps
from src
