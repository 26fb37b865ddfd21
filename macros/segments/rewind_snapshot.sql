{#- Pre-hook of snap_segment_memberships: forget the history recorded at or after the
    as-of clock, so a rebuild at the same (or an earlier) clock records that clock's
    memberships afresh instead of adding a second version with the same dbt_scd_id.
    A no-op when the clock only moves forward, as it does in production. -#}
{% macro rewind_snapshot() -%}
    {%- if execute and adapter.get_relation(this.database, this.schema, this.identifier) -%}
        {%- set as_of = microseg.as_of_timestamp() -%}
        delete from {{ this }} where dbt_valid_from >= {{ as_of }};
        update {{ this }} set dbt_valid_to = null where dbt_valid_to >= {{ as_of }}
    {%- endif -%}
{%- endmacro %}
