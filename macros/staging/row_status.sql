{#- clean, duplicate or quarantined: a quarantine reason wins, then a later copy is a duplicate. -#}
{% macro row_status(copy_rank) -%}
    case
        when quarantine_reason is not null then 'quarantined'
        when {{ copy_rank }} > 1 then 'duplicate'
        else 'clean'
    end
{%- endmacro %}
