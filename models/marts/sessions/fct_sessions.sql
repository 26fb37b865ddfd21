with

sessions as (
    select * from {{ ref('int_sessions') }}
)

-- The public copy of int_sessions: every column, hence the wildcard.
select * from sessions -- noqa: AM04
