{#- The one home of which attributed events a person-level model reads (its fingerprint in
    int_person_event_fingerprints hashes the same rows): a boolean SQL condition on the
    columns of int_events_attributed_to_persons, optionally qualified by `relation`. -#}
{% macro feature_inputs(kind, relation=none) -%}
    {%- set prefix = relation ~ '.' if relation else '' -%}
    {%- if kind == 'views' -%}
        ({{ prefix }}event_type = 'product_view'
        or ({{ prefix }}event_type = 'page_view' and {{ prefix }}page_type = 'product'))
    {%- elif kind == 'interests' -%}
        ({{ prefix }}interest is not null and {{ prefix }}interest != 'general'
        and {{ prefix }}event_type in ('{{ var('microseg__interest_event_weights').keys() | join("', '") }}'))
    {%- else -%}
        {{ exceptions.raise_compiler_error("feature_inputs: unknown kind " ~ kind) }}
    {%- endif -%}
{%- endmacro %}

{#- The add-to-cart events with their line value, optionally only of the persons in
    `persons` (a relation with person_key). Price and quantity are not carried through
    sessionization, so they are read back from staging by event id. -#}
{% macro cart_additions(person_events, events, persons=none) -%}
    select
        {{ person_events }}.person_key,
        {{ person_events }}.session_id,
        {{ person_events }}.event_id,
        {{ person_events }}.occurred_at,
        {{ person_events }}.product_id,
        {{ person_events }}.category,
        coalesce({{ events }}.price, 0) * coalesce({{ events }}.quantity, 1) as line_value
    from {{ person_events }}
    {%- if persons %}
    inner join {{ persons }}
        on {{ person_events }}.person_key = {{ persons }}.person_key
    {%- endif %}
    inner join {{ events }}
        on {{ person_events }}.event_id = {{ events }}.event_id
    where {{ person_events }}.event_type = 'add_to_cart' and {{ events }}.event_type = 'add_to_cart'
{%- endmacro %}

{#- The event types a count column of int_events_aggregated_to_person_days covers, as a
    SQL list for `event_type in (...)`; without a column, every column's, as a dict. -#}
{% macro person_day_event_types(column=none) -%}
    {%- set types = {
        'product_views': "'product_view'",
        'cart_adds': "'add_to_cart'",
        'searches': "'search'",
        'content_interactions': "'content_read', 'video_played'",
        'email_opens': "'email_opened'",
        'email_clicks': "'email_clicked'",
        'purchases': "'purchase'",
    } -%}
    {%- if column is none -%}
        {{ return(types) }}
    {%- endif -%}
    {{ return(types[column]) }}
{%- endmacro %}

{#- The sum of a count column over the rows meeting `condition`, as a bigint. -#}
{% macro count_of(column, condition) -%}
    cast(sum(case when {{ condition }} then {{ column }} else 0 end) as {{ dbt.type_bigint() }})
{%- endmacro %}
