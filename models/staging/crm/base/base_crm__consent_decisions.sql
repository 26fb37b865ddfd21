{%- set purposes = var('microseg__consent_purposes') -%}

with

base_consents as (
    select * from {{ ref('base_crm__consents') }}
),

purposes as (
    {% for purpose in purposes -%}
        select '{{ purpose }}' as purpose
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

-- Every record that names a person and is not a copy of another one, clean or not. Only
-- a clean record can grant: a quarantined one (unreadable value, unknown purpose, no
-- usable time) counts as a withdrawal.
attributable as (
    select
        raw_row_hash,
        raw_row_occurrence,
        user_id,
        purpose as recorded_purpose,
        coalesce(row_status = 'clean' and is_granted, false) as is_granted,
        recorded_at,
        consent_source,
        row_status,
        quarantine_reason,
        case when row_status = 'clean' then consent_record_id end as consent_record_id,
        case when row_status = 'quarantined' then {{ microseg.quarantine_id() }} end as quarantine_id
    from base_consents
    where user_id is not null and row_status != 'duplicate'
),

classified as (
    select
        attributable.*,
        known_purposes.purpose is not null as is_known_purpose
    from attributable
    left join purposes as known_purposes
        on attributable.recorded_purpose = known_purposes.purpose
),

-- A record applies to its own purpose; one whose purpose is unknown applies to every
-- purpose of the person.
applied as (
    select
        *,
        recorded_purpose as purpose
    from classified
    where is_known_purpose

    union all

    select
        classified.*,
        purposes.purpose
    from classified
    cross join purposes
    where not classified.is_known_purpose
),

-- The latest record per person and purpose is in force. A record without a usable time
-- cannot be placed, so it counts as later than every dated one; on the same instant a
-- withdrawal beats a grant, and a clean record is preferred to a quarantined one.
ranked as (
    select
        *,
        row_number() over (
            partition by user_id, purpose
            order by
                case when recorded_at is null then 0 else 1 end asc,
                recorded_at desc,
                case when is_granted then 1 else 0 end asc,
                case when row_status = 'clean' then 0 else 1 end asc,
                quarantine_reason asc,
                consent_source asc,
                recorded_purpose asc,
                raw_row_hash asc,
                raw_row_occurrence asc
        ) = 1 as is_in_force
    from applied
),

final as (
    select
        raw_row_hash,
        raw_row_occurrence,
        consent_record_id,
        quarantine_id,
        user_id,
        purpose,
        recorded_purpose,
        is_granted,
        recorded_at,
        consent_source,
        row_status,
        quarantine_reason,
        is_in_force
    from ranked
)

select * from final
