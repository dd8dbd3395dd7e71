-- Each coin's champion at the start of each day.
with src as (
    {{ export_source('champions') }}
)

select
    timeframe,
    day,
    symbol,
    partition_key,
    dagster_run_id,
    champion_folder,
    champion_folder is not null as has_champion,
    mlflow_model,
    mlflow_version,
    trade_ok,
    promoted,
    reason,
    test as decision_test,
    p_value,
    decision_key,
    effective_from
from src
