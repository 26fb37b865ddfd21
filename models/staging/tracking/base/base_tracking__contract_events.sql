{{ config(materialized='view') }}

{{ microseg.contract_events_select(microseg.tracking_events_relation(), announce=true) }}
