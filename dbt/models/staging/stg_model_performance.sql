-- Each coin model's out-of-sample figures: per fold, and the aggregate (fold NULL).
with src as (
    {{ export_source('model_performance') }}
)

select
    timeframe,
    day,
    symbol,
    partition_key,
    model_version,
    cutoff,
    passed,
    gate_profile,
    policy,
    fold,
    fold is null as is_aggregate,
    trade_count,
    net_pnl,
    sharpe,
    hit_rate,
    max_drawdown,
    profit_factor,
    expectancy_bps,
    mlflow_model,
    mlflow_version
from src
