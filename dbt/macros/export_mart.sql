{#- Where a mart's parquet lies: HURACAN_HOME/exports/marts/<timeframe>/<model>.parquet (the analysts' DuckDB file
    has a view over each). The directory must exist (the Dagster resource creates it). -#}
{% macro mart_location(name) -%}
  {{ env_var('HURACAN_HOME') }}/exports/marts/{{ var('timeframe') }}/{{ name }}.parquet
{%- endmacro %}


{#- Post-hook of every mart: the table, in a stable row order, to its parquet (DuckDB writes a temp file and
    renames it over the old one). A mart with no rows is written with its columns and no rows. -#}
{% macro export_mart() -%}
  copy (select * from {{ this }} order by all) to '{{ mart_location(this.identifier) | replace("'", "''") }}' (format parquet)
{%- endmacro %}
