{#- How many engines agreed with the consensus. The ledger writes the agreeing engines' names
    ('trend,leader'); docs/exports.md says a count. Either reads as the count (none, NULL or '' → 0). -#}
{% macro engine_count(column) -%}
  case
    when {{ column }} is null or trim({{ column }}) = '' then 0
    when regexp_full_match(trim({{ column }}), '[0-9]+') then cast(trim({{ column }}) as integer)
    else cast(len(string_split({{ column }}, ',')) as integer)
  end
{%- endmacro %}
