-- Every champion decision (promoted or not), on the day it took effect.
with src as (
    {{ export_source('promotions') }}
)

select
    timeframe,
    day,
    symbol,
    partition_key,
    dagster_run_id,
    decision_key,
    source as decision_source,
    decided_at,
    effective_from,
    promoted,
    champion_before,
    champion_after,
    reason,
    test as decision_test,
    p_value,
    window_start,
    window_end,
    run_id
from src
