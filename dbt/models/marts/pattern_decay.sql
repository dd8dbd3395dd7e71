-- Per pattern key and ISO week (Monday start): trades and mean net bps, against the 4 weeks before it.
with weekly as (
    select
        timeframe,
        scope,
        pattern_key,
        cast(date_trunc('week', day) as date) as week_start,
        any_value(regime) as regime,
        any_value(side) as side,
        any_value(engines_agreeing) as engines_agreeing,
        cast(sum(trades) as bigint) as trades,
        cast(sum(wins) as bigint) as wins,
        sum(total_net_bps) as total_net_bps,
        count(distinct symbol) as symbols
    from {{ ref('stg_pattern_performance') }}
    group by timeframe, scope, pattern_key, cast(date_trunc('week', day) as date)
),

compared as (
    select
        *,
        cast(sum(trades) over before as bigint) as trailing_trades,
        sum(total_net_bps) over before as trailing_total_net_bps,
        count(*) over before as trailing_weeks
    from weekly
    window before as (
        partition by timeframe, scope, pattern_key order by week_start
        range between interval 28 days preceding and interval 1 day preceding
    )
)

select
    timeframe,
    scope,
    pattern_key,
    week_start,
    regime,
    side,
    engines_agreeing,
    symbols,
    trades,
    wins,
    wins / nullif(trades, 0) as hit_rate,
    total_net_bps,
    total_net_bps / nullif(trades, 0) as mean_net_bps,
    trailing_weeks,
    coalesce(trailing_trades, 0) as trailing_trades,
    trailing_total_net_bps / nullif(trailing_trades, 0) as trailing_mean_net_bps,
    total_net_bps / nullif(trades, 0) - trailing_total_net_bps / nullif(trailing_trades, 0) as decay_bps
from compared
