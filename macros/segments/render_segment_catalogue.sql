{#- The catalogue as rows (one select per segment, unioned), fallback cohort included:
    what int_segment_catalogue_rendered holds, for models that need it inline. An origin's
    own fields are null for the other origins. -#}
{% macro render_segment_catalogue() -%}
    {%- set catalogue = microseg.segment_catalogue() -%}
    {%- set no_string = 'cast(null as ' ~ dbt.type_string() ~ ')' -%}
    {% for segment in catalogue %}
        select
            '{{ segment.key }}' as segment_key,
            '{{ segment.name | replace("'", "''") }}' as segment_name,
            '{{ segment.description | replace("'", "''") }}' as description,
            '{{ segment.rule | replace("'", "''") }}' as rule_sql,
            {{ "'" ~ segment.parent ~ "'" if segment.parent else 'cast(null as ' ~ dbt.type_string() ~ ')' }}
                as parent_segment_key,
            {{ segment.priority }} as priority,
            '{{ segment.owner }}' as owner,
            '{{ segment.channels | join(",") }}' as channels,
            {{ segment.min_size }} as min_size,
            cast({{ segment.max_share }} as double) as max_share,
            {{ segment.min_interactions }} as min_interactions,
            {{ segment.holdout_percent }} as holdout_percent,
            false as is_fallback,
            '{{ segment.origin }}' as origin,
            {{ "'" ~ segment.cluster_label ~ "'" if segment.cluster_label else no_string }} as cluster_label,
            {{ "'" ~ segment.seed_segment ~ "'" if segment.seed_segment else no_string }} as seed_segment_key,
            cast({{ 'null' if segment.top_percent is none else segment.top_percent }} as double)
                as top_percent,
            cast({{ 'null' if segment.top_n is none else segment.top_n }} as {{ dbt.type_int() }}) as top_n
        union all
    {% endfor %}
        select
            'fallback' as segment_key,
            'Fallback cohort' as segment_name,
            'Persons no segment accepts, mostly for too little data (microseg__min_interactions).'
                as description,
            cast(null as {{ dbt.type_string() }}) as rule_sql,
            cast(null as {{ dbt.type_string() }}) as parent_segment_key,
            9999 as priority,
            'analytics' as owner,
            '' as channels,
            0 as min_size,
            cast(1 as double) as max_share,
            0 as min_interactions,
            0 as holdout_percent,
            true as is_fallback,
            'fallback' as origin,
            {{ no_string }} as cluster_label,
            {{ no_string }} as seed_segment_key,
            cast(null as double) as top_percent,
            cast(null as {{ dbt.type_int() }}) as top_n
{%- endmacro %}
