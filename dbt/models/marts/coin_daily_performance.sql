-- Per coin and day: what the shadow trades earned after costs. Every (day, coin) of the daily summary is here,
-- days without trades included (zeros; NULL for figures undefined without trades), and so is any (day, coin)
-- with trades that the summary lacks (in_daily_summary = false; the relationships test flags it).
with summary as (
    select timeframe, day, symbol, champion, trade_ok
    from {{ ref('stg_daily_summary') }}
    where not is_total
),

trades as (
    select
        timeframe,
        day,
        symbol,
        count(*) as trades,
        count(*) filter (where is_win) as wins,
        sum(net_bps) as net_bps_total,
        sum(net_pnl) as net_pnl,
        sum(gross_pnl) as gross_pnl,
        sum(fees_paid) as fees_paid,
        sum(spread_paid) as spread_paid,
        sum(slippage_paid) as slippage_paid,
        sum(funding_paid) as funding_paid,
        sum(costs_paid) as costs_paid,
        sum(size) as notional
    from {{ ref('stg_trade_history') }}
    group by timeframe, day, symbol
),

grain as (
    select timeframe, day, symbol from summary
    union
    select timeframe, day, symbol from trades
)

select
    g.timeframe,
    g.day,
    g.symbol,
    coalesce(t.trades, 0) as trades,
    coalesce(t.wins, 0) as wins,
    t.wins / nullif(t.trades, 0) as hit_rate,
    coalesce(t.net_bps_total, 0.0) as net_bps_total,
    t.net_bps_total / nullif(t.trades, 0) as mean_net_bps,
    coalesce(t.net_pnl, 0.0) as net_pnl,
    coalesce(t.gross_pnl, 0.0) as gross_pnl,
    coalesce(t.fees_paid, 0.0) as fees_paid,
    coalesce(t.spread_paid, 0.0) as spread_paid,
    coalesce(t.slippage_paid, 0.0) as slippage_paid,
    coalesce(t.funding_paid, 0.0) as funding_paid,
    coalesce(t.costs_paid, 0.0) as costs_paid,
    coalesce(t.notional, 0.0) as notional,
    s.champion,
    s.trade_ok,
    s.symbol is not null as in_daily_summary
from grain as g
left join trades as t
    on t.timeframe = g.timeframe and t.day = g.day and t.symbol = g.symbol
left join summary as s
    on s.timeframe = g.timeframe and s.day = g.day and s.symbol = g.symbol
