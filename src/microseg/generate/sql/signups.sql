create table signups as
select
    persons.person_no,
    coalesce(
        min(case when sessions.session_no = sessions.login_session_no
                and sessions.signs_up_in_window then sessions.started_at
        end),
        ${window_start} - to_days(30 + floor(any_value(persons.u_signup) * 700)::int)
    ) + to_seconds(40) as signed_up_at
from persons
left join sessions on persons.person_no = sessions.person_no
where persons.is_known
group by 1
