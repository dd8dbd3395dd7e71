{#- Every non-NULL value lies within the bounds given (min_value, max_value; either may be left out):
    a share, a p-value, a rate. -#}
{% test value_between(model, column_name, min_value=none, max_value=none) %}
  select {{ adapter.quote(column_name) }} as value
  from {{ model }}
  where false
  {%- if min_value is not none %} or {{ adapter.quote(column_name) }} < {{ min_value }}{% endif %}
  {%- if max_value is not none %} or {{ adapter.quote(column_name) }} > {{ max_value }}{% endif %}
{% endtest %}
