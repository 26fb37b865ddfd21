{#- Snapshots take their time from the as-of clock rather than the wall clock, so
    membership history lines up with the features it was computed from and rebuilding
    the same data records no change. Found through the `dbt` dispatch search order. -#}
{% macro default__snapshot_get_time() -%}
    {{ microseg.as_of_timestamp() }}
{%- endmacro %}
