-- How the shadow trades did by regime at entry × deciding policy × number of engines agreeing, after costs.
select
    timeframe,
    coalesce(regime, 'UNKNOWN') as regime,
    policy,
    engines_agreeing,
    count(*) as trades,
    count(*) filter (where is_win) as wins,
    count(*) filter (where is_win) / count(*) as hit_rate,
    avg(net_bps) as mean_net_bps,
    sum(net_bps) as total_net_bps,
    avg(gross_bps) as mean_gross_bps,
    sum(net_pnl) as net_pnl,
    sum(costs_paid) as costs_paid,
    count(distinct symbol) as symbols,
    min(day) as first_day,
    max(day) as last_day
from {{ ref('stg_trade_history') }}
group by timeframe, coalesce(regime, 'UNKNOWN'), policy, engines_agreeing
