{#- The persons a person-level incremental model recomputes, as two CTEs (end with a
    comma): `fingerprints` (person_key, events_fingerprint: the `fingerprint` column of
    int_person_event_fingerprints, an order-free hash of the events the model reads) and
    `changed_persons`: on an incremental run, the persons whose fingerprint differs from
    the one stored with the model's rows (new, changed or gone), else every person with
    one. The model stores events_fingerprint on each row, lives in
    models/intermediate/features/person_state (whose folder config makes it incremental
    with `replace_from` by person_key, no order column, events_fingerprint as row marker)
    and ends its batch with `changed_persons_tombstones()`. A person with a fingerprint must
    get at least one row, or they are recomputed on every run. -#}
{% macro changed_persons_ctes(fingerprint) %}
fingerprints as (
    select
        person_key,
        {{ fingerprint }} as events_fingerprint
    from {{ ref('int_person_event_fingerprints') }}
    where {{ fingerprint }} is not null
),

changed_persons as (
    {%- if is_incremental() %}
    select coalesce(fingerprints.person_key, previous.person_key) as person_key
    from fingerprints
    full outer join (
        select distinct
            person_key,
            events_fingerprint
        from {{ this }}
    ) as previous
        on fingerprints.person_key = previous.person_key
    where fingerprints.events_fingerprint is distinct from previous.events_fingerprint
    {%- else %}
    select person_key from fingerprints
    {%- endif %}
),
{%- endmacro %}

{#- The end of such a model's batch on an incremental run: a tombstone per changed person,
    so their rows are replaced whole and a gone person's deleted. -#}
{% macro changed_persons_tombstones() -%}
    {%- if is_incremental() %}
        union all

        {{ microseg.tombstone_rows('changed_persons', 'person_key') }}
    {%- endif %}
{%- endmacro %}
