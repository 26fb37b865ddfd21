-- depends_on: {{ ref('base_privacy__erasures') }}
with

contract_events as (
    select * from {{ ref('base_tracking__contract_events') }}
),

bot_user_agents as (
    select * from {{ ref('bot_user_agents') }}
),

user_agents as (
    select distinct {{ microseg.clean_string('user_agent') }} as user_agent
    from contract_events
),

final as (
    select
        user_agents.user_agent,
        min(bot_user_agents.bot_name) as bot_name
    from user_agents
    inner join bot_user_agents
        on {{ dbt.position('bot_user_agents.pattern', 'lower(user_agents.user_agent)') }} > 0
    group by 1
)

select * from final
