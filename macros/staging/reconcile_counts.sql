{#- One row of the reconciliation: raw rows against what staging made of them. -#}
{% macro reconcile_counts(source_table, raw_relation, clean_model, quarantined_model, base_model) -%}
    select
        '{{ source_table }}' as source_table,
        (select count(*) from {{ raw_relation }}) as raw_rows,
        (select count(*) from {{ ref(clean_model) }}) as clean_rows,
        (select count(*) from {{ ref(quarantined_model) }}) as quarantined_rows,
        (select count(*) from {{ ref(base_model) }} where row_status = 'duplicate') as duplicate_rows
{%- endmacro %}
