{#- The export parquet of one table (docs/exports.md), read straight from the archive:
    HURACAN_ARCHIVE/exports/<table>/<timeframe>/**/*.parquet (one object per source partition).

    The source's `external_location` (models/staging/_sources.yml) renders to the same read_parquet(); keep the two
    paths alike. -#}
{% macro export_glob(table) -%}
  {{ env_var('HURACAN_ARCHIVE') }}/exports/{{ table }}/{{ var('timeframe') }}/**/*.parquet
{%- endmacro %}


{#- Every column the source declares (_sources.yml, with its data_type), cast to that type.
    A table with no file yet (a fresh home, a day without promotions) reads as an empty relation of the same
    columns and types, so a build on a fresh home passes instead of failing on read_parquet's "no files found".
    A declared column that is in none of the files is an error naming it (never a silent null). -#}
{% macro export_source(table) -%}
  {%- set relation = source('exports', table) -%}
  {%- if not execute -%}
    select 1 as parsing
  {%- else -%}
    {%- set node = graph.sources['source.' ~ project_name ~ '.exports.' ~ table] -%}
    {%- set columns = node.columns.values() | list -%}
    {%- if columns | length == 0 -%}
      {{ exceptions.raise_compiler_error("source exports." ~ table ~ " declares no columns in _sources.yml") }}
    {%- endif -%}
    {%- set files = run_query("select count(*) from glob('" ~ (export_glob(table) | replace("'", "''")) ~ "')") -%}
    {%- if files.columns[0].values()[0] > 0 %}
    select
      {%- for column in columns %}
        cast({{ adapter.quote(column.name) }} as {{ column.data_type }}) as {{ adapter.quote(column.name) }}{{ "," if not loop.last }}
      {%- endfor %}
    from {{ relation }}
    {%- else %}
    -- no export of {{ table }} yet: an empty relation with the declared columns
    select
      {%- for column in columns %}
        cast(null as {{ column.data_type }}) as {{ adapter.quote(column.name) }}{{ "," if not loop.last }}
      {%- endfor %}
    where false
    {%- endif -%}
  {%- endif -%}
{%- endmacro %}
