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
    decision_policy,
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
    ic,
    icir,
    pooled_ic,
    q1_net_bps,
    q5_net_bps,
    q5_minus_q1_bps,
    mlflow_model,
    mlflow_version
from src
