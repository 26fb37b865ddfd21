-- depends_on: {{ ref('base_privacy__erasures') }}
{{ config(materialized='ephemeral') }}

{#- Rows of persons who asked to be erased go no further than the raw table. -#}
select *
from (
    {{ microseg.contract_events_select(microseg.tracking_events_relation(), announce=true) }}
) as contract_events
{%- if microseg.erasures_exist() %}
    where not {{ microseg.erased_condition({
        microseg.clean_string('user_id'): 'user_id',
        microseg.clean_string('anonymous_id'): 'anonymous_id',
    }) }}
{%- endif %}
