{#- The key of a rejected row: its fingerprint and copy number. -#}
{% macro quarantine_id() -%}
    {{ dbt.concat([
        "cast(raw_row_hash as " ~ dbt.type_string() ~ ")",
        "'-'",
        "cast(raw_row_occurrence as " ~ dbt.type_string() ~ ")",
    ]) }}
{%- endmacro %}
