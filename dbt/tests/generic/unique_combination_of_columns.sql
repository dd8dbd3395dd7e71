{#- The grain test: no two rows share the values of these columns (a NULL counts as a value).
    Like dbt_utils.unique_combination_of_columns, which is not installed here. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
  select
    {%- for column in combination_of_columns %}
    {{ adapter.quote(column) }},
    {%- endfor %}
    count(*) as duplicates
  from {{ model }}
  group by
    {%- for column in combination_of_columns %}
    {{ adapter.quote(column) }}{{ "," if not loop.last }}
    {%- endfor %}
  having count(*) > 1
{% endtest %}
