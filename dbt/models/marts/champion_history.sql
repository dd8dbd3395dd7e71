-- Each coin's champion per day, when it changed, how long it has held, and the decision that left it
-- (joined to the promotions export by decision_key; NULL where that decision's day was not exported).
with champions as (
    select
        *,
        lag(champion_folder) over by_day as previous_champion,
        row_number() over by_day as day_number
    from {{ ref('stg_champions') }}
    window by_day as (partition by timeframe, symbol order by day)
),

changes as (
    select
        *,
        day_number > 1 and champion_folder is distinct from previous_champion as changed
    from champions
),

tenures as (
    select
        *,
        sum(case when day_number = 1 or changed then 1 else 0 end) over (
            partition by timeframe, symbol order by day rows between unbounded preceding and current row
        ) as tenure
    from changes
)

select
    c.timeframe,
    c.day,
    c.symbol,
    c.champion_folder,
    c.has_champion,
    c.previous_champion,
    c.changed,
    row_number() over (partition by c.timeframe, c.symbol, c.tenure order by c.day) as days_in_force,
    c.mlflow_model,
    c.mlflow_version,
    c.trade_ok,
    c.promoted,
    c.reason,
    c.decision_test,
    c.p_value,
    c.decision_key,
    c.effective_from,
    p.decision_source,
    p.decided_at,
    p.champion_before,
    p.champion_after
from tenures as c
left join {{ ref('stg_promotions') }} as p
    on p.timeframe = c.timeframe and p.decision_key = c.decision_key
