{#- Non-members of each lookalike's seed segment ranked by the lookalike's registered model
    (a logistic regression of seed membership on the clustering features, stored by
    `microseg train`), in plain SQL from its parameters. A lookalike without a registered
    model, or whose seed has no member or every member, ranks nobody. -#}
-- depends_on: {{ ref('int_ml_models') }}
{{ config(materialized='table') }}

{%- set models = microseg.latest_ml_models() -%}
{%- set lookalikes = microseg.segment_catalogue('lookalike') | selectattr('key', 'in', models) | list %}

with

person_features as (
    select * from {{ ref('int_person_features') }}
),

seeds as (
    select * from {{ ref('int_lookalike_seeds_selected') }}
),

clusterable as (
    select * from person_features
    where interactions >= {{ var('microseg__min_interactions') }}
),

seed_sizes as (
    select
        seeds.lookalike_key,
        count(*) as seed_size
    from seeds
    inner join clusterable on seeds.person_key = clusterable.person_key
    group by 1
),

candidates as (
    {% for lookalike in lookalikes -%}
        select
            '{{ lookalike.key }}' as lookalike_key,
            clusterable.person_key,
            {%- set probability = microseg.ml_logistic_probability(
                models[lookalike.key].parameters, 'clusterable') %}
            round({{ probability }}, 6) as similarity
        from clusterable
        where not exists (
            select 1 from seeds
            where
                seeds.lookalike_key = '{{ lookalike.key }}'
                and seeds.person_key = clusterable.person_key
        )
        {% if not loop.last %}union all{% endif %}
    {% else -%}
        select
            cast(null as {{ dbt.type_string() }}) as lookalike_key,
            person_key,
            cast(null as double) as similarity
        from person_features
        where false
    {%- endfor %}
),

ranked as (
    select
        candidates.lookalike_key,
        candidates.person_key,
        candidates.similarity,
        seed_sizes.seed_size,
        row_number() over (
            partition by candidates.lookalike_key
            order by candidates.similarity desc, candidates.person_key asc
        ) as similarity_rank,
        count(*) over (partition by candidates.lookalike_key) as candidate_count
    from candidates
    inner join seed_sizes on candidates.lookalike_key = seed_sizes.lookalike_key
),

-- top_n, or else the top_percent of the candidates (rounded down).
selection_sizes as (
    select
        lookalike_key,
        {% if lookalikes -%}
            case lookalike_key
                {% for lookalike in lookalikes -%}
                    when '{{ lookalike.key }}' then {{ lookalike.top_n or
                        'floor(max(candidate_count) * ' ~ lookalike.top_percent ~ ' / 100.0)' }}
                {% endfor -%}
            end as selected_count
        {%- else -%}
            0 as selected_count
        {%- endif %}
    from ranked
    group by 1
),

final as (
    select
        {{ dbt.concat(['ranked.lookalike_key', "'|'", 'ranked.person_key']) }} as lookalike_id,
        ranked.lookalike_key,
        ranked.person_key,
        ranked.similarity,
        ranked.similarity_rank,
        ranked.similarity_rank <= selection_sizes.selected_count as is_selected,
        ranked.seed_size
    from ranked
    inner join selection_sizes on ranked.lookalike_key = selection_sizes.lookalike_key
)

select * from final
