-- Outcomes by stable pattern key ('<regime>|<long/short>|<engines_agreeing>'), per day and coin.
with src as (
    {{ export_source('pattern_performance') }}
)

select
    timeframe,
    day,
    symbol,
    partition_key,
    scope,
    pattern_key,
    regime,
    side,
    engines_agreeing,
    trades,
    wins,
    mean_net_bps,
    total_net_bps
from src
