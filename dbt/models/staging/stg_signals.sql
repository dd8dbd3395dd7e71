-- The consensus decision per bar (the per-engine columns are left in the export).
with src as (
    {{ export_source('signals') }}
)

select
    timeframe,
    day,
    symbol,
    "timestamp",
    regime,
    direction,
    confidence,
    recommendation,
    {{ engine_count('engines_agreeing') }} as engines_agreeing,
    expected_edge_bps,
    cost_bps
from src
