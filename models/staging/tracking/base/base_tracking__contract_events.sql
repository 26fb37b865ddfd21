{{ config(materialized='view') }}

{{ microseg.contract_events_select(source('tracking', 'events')) }}
