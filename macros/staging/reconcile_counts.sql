{#- One row of the reconciliation: raw rows against what staging made of them. Rows of
    erased persons (models/staging/privacy) are counted apart: raw = clean + quarantined
    + duplicates + erased. `erasable` maps raw id expressions to identifier kinds. -#}
{% macro reconcile_counts(source_table, raw_relation, clean_model, quarantined_model, base_model, erasable) -%}
    select
        '{{ source_table }}' as source_table,
        (select count(*) from {{ raw_relation }}) as raw_rows,
        (select count(*) from {{ ref(clean_model) }}) as clean_rows,
        (select count(*) from {{ ref(quarantined_model) }}) as quarantined_rows,
        (select count(*) from {{ ref(base_model) }} where row_status = 'duplicate') as duplicate_rows,
        {% if microseg.erasures_exist() -%}
            (select count(*) from {{ raw_relation }} where {{ microseg.erased_condition(erasable) }})
        {%- else -%}
            0
        {%- endif %} as erased_rows
{%- endmacro %}
