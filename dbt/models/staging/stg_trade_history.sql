-- One row per shadow trade, typed, with the figures the marts add up (costs, gross profit in USDT, side, win).
with src as (
    {{ export_source('trade_history') }}
)

select
    timeframe,
    day,
    symbol,
    partition_key,
    dagster_run_id,
    trade_id,
    signal_time,
    entry_time,
    exit_time,
    entry_price,
    exit_price,
    size,
    direction,
    case direction when 1 then 'long' when -1 then 'short' end as side,
    bars_held,
    gross_bps,
    net_bps,
    gross_bps * size / 1e4 as gross_pnl,
    net_pnl,
    fees_paid,
    spread_paid,
    slippage_paid,
    funding_paid,
    fees_paid + spread_paid + slippage_paid + funding_paid as costs_paid,
    net_pnl > 0 as is_win,
    exit_reason,
    regime,
    {{ engine_count('engines_agreeing') }} as engines_agreeing,
    confidence,
    policy,
    model_version,
    expected_edge_bps
from src
