-- Per coin and day: how much of the gross profit the costs took.
select
    timeframe,
    day,
    symbol,
    trades,
    gross_pnl,
    costs_paid,
    net_pnl,
    case when gross_pnl > 0 then costs_paid / gross_pnl end as cost_share_of_gross,
    costs_paid / nullif(notional, 0) * 1e4 as costs_bps
from {{ ref('coin_daily_performance') }}
