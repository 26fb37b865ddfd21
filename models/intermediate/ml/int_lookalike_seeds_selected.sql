{#- Members of each lookalike's seed segment, from the seed's rule (with its parents). -#}
{{ config(materialized='view') }}

{%- set catalogue = microseg.segment_catalogue() -%}

with

features as (
    select * from {{ ref('int_person_features') }}
),

seeds as (
    {% for lookalike in catalogue if lookalike.origin == 'lookalike' -%}
        {%- set seed = catalogue | selectattr('key', 'equalto', lookalike.seed_segment) | first -%}
        {%- set machine_learned = seed is defined and seed.origin not in ['rule', 'rfm'] -%}
        {%- if seed is not defined or machine_learned -%}
            {{ exceptions.raise_compiler_error(
                "lookalike '" ~ lookalike.key ~ "': seed_segment '" ~ lookalike.seed_segment
                ~ "' must be a rule segment of the catalogue") }}
        {%- endif %}
        select
            {{ dbt.concat(["'" ~ lookalike.key ~ "|'", 'person_key']) }} as seed_id,
            person_key,
            '{{ lookalike.key }}' as lookalike_key
        from features
        where {{ microseg.segment_condition(seed, catalogue) }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
)

select * from seeds
