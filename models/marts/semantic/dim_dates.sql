{#- One row per day from microseg__data_start_date up to, not including, spine_end: a fixed
    date, since models read no clock. dbt's date_spine is portable (DuckDB and Snowflake). -#}
{%- set spine_end = "2050-01-01" -%}

with

days as (
    {{ dbt.date_spine(
        datepart="day",
        start_date="cast('" ~ var("microseg__data_start_date") ~ "' as date)",
        end_date="cast('" ~ spine_end ~ "' as date)",
    ) }}
),

final as (
    select cast(date_day as date) as date_day
    from days
)

select * from final
