{%- set counted = {
    'product_views': "event_type = 'product_view'",
    'content_reads': "event_type = 'content_read'",
    'video_plays': "event_type = 'video_played'",
    'review_views': "category = 'reviews'",
    'faq_views': "category = 'faq'",
    'searches': "event_type = 'search'",
} -%}

with

person_events as (
    select * from {{ ref('int_events_attributed_to_persons') }}
),

{{ microseg.changed_persons_ctes('events_fingerprint') }}

changed_events as (
    select person_events.*
    from person_events
    inner join changed_persons
        on person_events.person_key = changed_persons.person_key
),

-- An e-mail sent is not something the person did.
interactions as (
    select * from changed_events
    where event_type != 'email_sent'
),

email_events as (
    select * from changed_events
    where event_type in ('email_sent', 'email_opened', 'email_clicked')
),

activity as (
    select
        person_key,
        {% for column, condition in counted.items() -%}
            count(case when {{ condition }} then 1 end) as {{ column }},
        {% endfor -%}
        count(*) as interactions,
        min(occurred_at) as first_interaction_at,
        max(occurred_at) as last_interaction_at,
        count(distinct page_url) as distinct_pages,
        count(distinct case when page_type in ('product', 'content') then category end)
            as distinct_categories
    from interactions
    group by 1
),

-- Any e-mail event of a campaign shows it was received.
email_response as (
    select
        person_key,
        count(distinct campaign_id) as campaigns_received,
        count(distinct case when event_type in ('email_opened', 'email_clicked') then campaign_id end)
            as campaigns_opened,
        count(distinct case when event_type = 'email_clicked' then campaign_id end)
            as campaigns_clicked
    from email_events
    group by 1
),

final as (
    select
        changed_persons.person_key,
        coalesce(activity.interactions, 0) as interactions,
        activity.first_interaction_at,
        activity.last_interaction_at,
        {% for column in ['distinct_pages', 'distinct_categories'] + counted.keys() | list -%}
            coalesce(activity.{{ column }}, 0) as {{ column }},
        {% endfor -%}
        coalesce(email_response.campaigns_received, 0) as campaigns_received,
        coalesce(email_response.campaigns_opened, 0) as campaigns_opened,
        coalesce(email_response.campaigns_clicked, 0) as campaigns_clicked,
        fingerprints.events_fingerprint
    from changed_persons
    inner join fingerprints
        on changed_persons.person_key = fingerprints.person_key
    left join activity
        on changed_persons.person_key = activity.person_key
    left join email_response
        on changed_persons.person_key = email_response.person_key

    {{ microseg.changed_persons_tombstones() }}
)

select * from final
