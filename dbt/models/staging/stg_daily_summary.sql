-- One row per day and coin, plus the day's whole-universe row (symbol 'ALL').
with src as (
    {{ export_source('daily_summary') }}
)

select
    timeframe,
    day,
    symbol,
    symbol = 'ALL' as is_total,
    partition_key,
    dagster_run_id,
    models_trained,
    models_passed,
    models_failed,
    promotions,
    trades,
    hit_rate_pct,
    mean_net_bps,
    net_pnl,
    costs_paid,
    champion,
    trade_ok,
    reason
from src
