{#- A key for a rejected row: the hash of its original values, numbered among
    identical copies so that exact duplicates stay distinct. -#}
{% macro quarantine_id(raw_record='raw_record') -%}
    {{ dbt.concat([
        dbt.hash(raw_record),
        "'-'",
        "cast(row_number() over (partition by " ~ raw_record ~ " order by " ~ raw_record ~ ") as " ~ dbt.type_string() ~ ")",
    ]) }}
{%- endmacro %}
